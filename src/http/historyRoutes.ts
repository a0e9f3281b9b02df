import Router from "@koa/router";
import type { Context } from "koa";
import getRawBody from "raw-body";
import { DomainError } from "../domain/errors.ts";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import { planRollback } from "../domain/rollback.ts";
import { configVersionJson, readConfigHistory, readConfigVersion } from "../store/configHistory.ts";
import type { RepoStore } from "../store/repoStore.ts";
import { answer, NOT_PROTOCOL } from "./answer.ts";

export interface HistoryDeps {
  readonly store: RepoStore;
  readonly onError?: (error: unknown, ctx: Context) => void;
}

const BODY_LIMIT = 64 * 1024;

/**
 * JSON extension API over git history (not part of the agent protocol):
 * GET  /api/v1/configs/:name/history            versions newest first, each with its commit
 * GET  /api/v1/configs/:name/versions/:version  the config as it was at that version
 * POST /api/v1/configs/:name/rollback {version}  restore that version as a new commit
 * Errors are {code, message} with the status of the protocol's one code table.
 */
export function historyRouter(deps: HistoryDeps): Router {
  const { store } = deps;
  const router = new Router({ prefix: "/api/v1/configs" });
  const handle = (fn: (ctx: Context) => Promise<Record<string, unknown>>) => async (ctx: Context) => {
    ctx.type = "application/json";
    try {
      ctx.body = { code: "Accept", ...(await fn(ctx)) };
      ctx.status = 200;
    } catch (e) {
      if (e instanceof DomainError) return answer(ctx, NOT_PROTOCOL, e.code, e.message);
      deps.onError?.(e, ctx);
      answer(ctx, NOT_PROTOCOL, "InternalServerError", `Internal error while handling ${ctx.path}: ${(e as Error).message}`);
    }
  };

  router.get("/:name/history", handle(async (ctx) => {
    const name = checkName(ctx.params.name);
    const versions = await readConfigHistory(store.git, name, served(store));
    if (versions.length === 0) throw new DomainError("ConfigNotExist", `Config ${name} doesn't exist and has no history.`);
    return {
      message: "Get config history success",
      config_name: name,
      current_version: store.state.configs.get(name)?.version ?? null,
      versions: versions.map(configVersionJson),
    };
  }));

  router.get("/:name/versions/:version", handle(async (ctx) => {
    const name = checkName(ctx.params.name);
    const at = await readConfigVersion(store.git, name, parseVersion(ctx.params.version), served(store));
    return {
      message: "Get config version success",
      ...configVersionJson(at.entry),
      config_detail: { config_name: at.spec.name, agent_type: at.spec.agentType, description: at.spec.description, content: at.spec.content },
    };
  }));

  router.post("/:name/rollback", handle(async (ctx) => {
    const name = checkName(ctx.params.name);
    const version = parseVersion((await readJson(ctx)).version);
    const target = await readConfigVersion(store.git, name, version, served(store));
    const result = await store.write((state) => planRollback(state, name, { version, commit: target.entry.commit, spec: target.spec }));
    const now = result.state.configs.get(name);
    return {
      message: result.commit ? `Rolled back config ${name} to version ${version}` : `Config ${name} already equals version ${version}; nothing to commit`,
      config_name: name,
      restored_version: version,
      restored_commit: target.entry.commit,
      commit: result.commit ?? null,
      version: now?.version ?? null,
    };
  }));
  return router;
}

/** History is read up to the served commit, so versions match what agents were given. */
function served(store: RepoStore): string {
  return store.state.commit || "HEAD";
}

function checkName(name: string | undefined): string {
  if (!name || !isValidName(name)) throw new DomainError("InvalidParameter", nameRuleMessage("config", name ?? ""));
  return name;
}

function parseVersion(value: unknown): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new DomainError("BadRequest", `Need parameter version: a positive integer config version (see GET /api/v1/configs/<name>/history), got ${JSON.stringify(value ?? null)}.`);
  }
  return n;
}

async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = (await getRawBody(ctx.req, { limit: BODY_LIMIT })).toString("utf8");
  } catch (e) {
    throw new DomainError("BadRequest", `Could not read the request body: ${(e as Error).message}`);
  }
  if (text.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new DomainError("BadRequest", 'The request body must be a JSON object such as {"version": 3}.');
}
