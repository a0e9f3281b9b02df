import Router from "@koa/router";
import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import type { RepoState } from "../domain/repoState.ts";
import { planRollback } from "../domain/rollback.ts";
import { contentChecker } from "../store/contentCheck.ts";
import { configVersionJson } from "../domain/configVersion.ts";
import { CONFIG_HISTORY, INSTANCE_CONFIG_HISTORY, noHistory, readConfigVersion, readHistory, readVersion, type HistoryKind } from "../store/configHistory.ts";
import type { RepoStore } from "../store/repoStore.ts";
import { jsonRoute, readJsonObject } from "./jsonRoute.ts";
import { writeOptions } from "./writeOptions.ts";

export interface HistoryDeps {
  readonly store: RepoStore;
  readonly onError?: (error: unknown, ctx: Context) => void;
}

const BODY_LIMIT = 64 * 1024;

/**
 * JSON extension API over git history (not part of the agent protocol), camelCase like every
 * JSON answer (docs/api.md):
 * GET  /api/v1/configs/:name/history                     versions newest first, each with its commit
 * GET  /api/v1/configs/:name/versions/:version           the config as it was at that version
 * POST /api/v1/configs/:name/rollback {version}           restore that version as a new commit
 * GET  /api/v1/instance-configs/:name/history            the same for instance configs
 * GET  /api/v1/instance-configs/:name/versions/:version  (no rollback: no User API writes them)
 * Errors are {code, message} with the status of the protocol's one code table.
 */
export function historyRouter(deps: HistoryDeps): Router {
  const { store } = deps;
  const router = new Router();
  const handle = (fn: (ctx: Context) => Promise<Record<string, unknown>>) => jsonRoute(fn, deps.onError);

  const readable = <S>(prefix: string, kind: HistoryKind<S>, served: (state: RepoState) => ReadonlyMap<string, { version: number }>, detail: (spec: S) => Record<string, string>) => {
    router.get(`${prefix}/:name/history`, handle(async (ctx) => {
      const name = checkName(kind.what, ctx.params.name);
      const versions = await readHistory(store.git, kind, name, servedCommit(store));
      if (versions.length === 0) throw noHistory(kind, name);
      return {
        message: `Get ${kind.what} history success`,
        configName: name,
        currentVersion: served(store.state).get(name)?.version ?? null,
        versions: versions.map(configVersionJson),
      };
    }));
    router.get(`${prefix}/:name/versions/:version`, handle(async (ctx) => {
      const name = checkName(kind.what, ctx.params.name);
      const at = await readVersion(store.git, kind, name, parseVersion(ctx.params.version, prefix), servedCommit(store));
      return { message: `Get ${kind.what} version success`, ...configVersionJson(at.entry), configDetail: detail(at.spec) };
    }));
  };
  const format = (f: string | undefined): Record<string, string> => (f ? { format: f } : {});
  readable(CONFIGS, CONFIG_HISTORY, (s) => s.configs, (c) => ({ configName: c.name, agentType: c.agentType, description: c.description, content: c.content, ...format(c.format) }));
  readable(INSTANCE_CONFIGS, INSTANCE_CONFIG_HISTORY, (s) => s.instanceConfigs, (c) => ({ configName: c.name, description: c.description, content: c.content, ...format(c.format) }));

  router.post(`${CONFIGS}/:name/rollback`, handle(async (ctx) => {
    const name = checkName("config", ctx.params.name);
    const who = writeOptions(ctx.req);
    const version = parseVersion(rollbackVersion(await readJson(ctx)), CONFIGS);
    const target = await readConfigVersion(store.git, name, version, servedCommit(store));
    const result = await store.write((state) => planRollback(state, name, { version, commit: target.entry.commit, spec: target.spec }, contentChecker(store.contentLimits)), who);
    const now = result.state.configs.get(name);
    return {
      message: result.commit ? `Rolled back config ${name} to version ${version}` : `Config ${name} already equals version ${version}; nothing to commit`,
      configName: name,
      restoredVersion: version,
      restoredCommit: target.entry.commit,
      commit: result.commit ?? null,
      version: now?.version ?? null,
    };
  }));
  return router;
}

const CONFIGS = "/api/v1/configs";
const INSTANCE_CONFIGS = "/api/v1/instance-configs";

/** History is read up to the served commit, so versions match what agents were given. */
function servedCommit(store: RepoStore): string {
  return store.state.commit || "HEAD";
}

function checkName(what: "config" | "instance config", name: string | undefined): string {
  if (!name || !isValidName(name)) throw new DomainError("InvalidParameter", nameRuleMessage(what, name ?? ""));
  return name;
}

function parseVersion(value: unknown, prefix: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    throw new DomainError("BadRequest", `Need parameter version: a positive integer config version (see GET ${prefix}/<name>/history), got ${JSON.stringify(value ?? null)}.`);
  }
  return n;
}

/** `{"version": 3}`; any other field is refused by name, as in every JSON body. */
function rollbackVersion(body: Record<string, unknown>): unknown {
  const unknown = Object.keys(body).filter((k) => k !== "version");
  if (unknown.length > 0) throw new DomainError("BadRequest", `unknown field ${JSON.stringify(unknown[0])} in the rollback request; its only field is version.`);
  return body.version;
}

const readJson = (ctx: Context) => readJsonObject(ctx, BODY_LIMIT, '{"version": 3}');
