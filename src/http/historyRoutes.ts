import Router from "@koa/router";
import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import type { RepoState } from "../domain/repoState.ts";
import { configVersionJson } from "../domain/configVersion.ts";
import { markHistory, type ServedAt } from "../store/historyMarks.ts";
import { rollbackConfig } from "../store/rollbackWrite.ts";
import { CONFIG_HISTORY, INSTANCE_CONFIG_HISTORY, noHistory, readHistory, readVersion, type HistoryKind } from "../store/configHistory.ts";
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
 * GET  /api/v1/configs/:name/history                     versions of HEAD newest first, each with its commit,
 *                                                         the served one and the refused ones marked
 * GET  /api/v1/configs/:name/versions/:version           the config as it was at that version
 * POST /api/v1/configs/:name/rollback {version}           restore that version as a new commit; the one
 *                                                         write taken while HEAD is refused (it repairs it)
 * GET  /api/v1/instance-configs/:name/history            the same for instance configs
 * GET  /api/v1/instance-configs/:name/versions/:version  (no rollback: no User API writes them)
 * Errors are {code, message} with the status of the protocol's one code table.
 */
export function historyRouter(deps: HistoryDeps): Router {
  const { store } = deps;
  const router = new Router();
  const handle = (fn: (ctx: Context) => Promise<Record<string, unknown>>) => jsonRoute(fn, deps.onError);

  const readable = <S>(prefix: string, kind: HistoryKind<S>, servedOf: (state: RepoState) => ReadonlyMap<string, { version: number }>, detail: (spec: S) => Record<string, string>) => {
    router.get(`${prefix}/:name/history`, handle(async (ctx) => {
      const name = checkName(kind.what, ctx.params.name);
      const versions = await markHistory(store.git, await readHistory(store.git, kind, name, "HEAD"), served(store.state), store.contentLimits);
      if (versions.length === 0) throw noHistory(kind, name);
      return {
        message: `Get ${kind.what} history success`,
        configName: name,
        currentVersion: servedOf(store.state).get(name)?.version ?? null,
        versions: versions.map(configVersionJson),
      };
    }));
    router.get(`${prefix}/:name/versions/:version`, handle(async (ctx) => {
      const name = checkName(kind.what, ctx.params.name);
      const at = await readVersion(store.git, kind, name, parseVersion(ctx.params.version, prefix), "HEAD");
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
    const { target, result, summary, stillRefused } = await rollbackConfig(store, name, version, who);
    return {
      message: summary,
      configName: name,
      restoredVersion: version,
      restoredCommit: target.entry.commit,
      commit: result.commit ?? null,
      // The version agents are served now: unchanged while HEAD still fails validation.
      version: result.state.configs.get(name)?.version ?? null,
      ...(stillRefused ? { stillRefused } : {}),
    };
  }));
  return router;
}

const CONFIGS = "/api/v1/configs";
const INSTANCE_CONFIGS = "/api/v1/instance-configs";

/** The served commit, against which the history marks the served version and the refused ones. */
function served(state: RepoState): ServedAt {
  return { commit: state.commit, depth: state.commit ? state.depth : 0 };
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
