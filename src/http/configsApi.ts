import Router from "@koa/router";
import type { Context } from "koa";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { ConfigRecord, GroupSpec, InstanceConfigRecord } from "../domain/types.ts";
import { answerCode, NOT_PROTOCOL } from "./codeAnswer.ts";

export interface ConfigsApiDeps {
  readonly store: { readonly state: RepoState };
}

/** Group names by the config they apply, in one pass over the groups (sorted, as the groups are): a listing does not scan the groups once per config. */
function appliedBy(state: RepoState, list: (g: GroupSpec) => readonly string[] | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const g of state.sortedGroups) {
    for (const name of list(g) ?? []) {
      const groups = out.get(name);
      if (groups) groups.push(g.name);
      else out.set(name, [g.name]);
    }
  }
  return out;
}

const served = (c: ConfigRecord | InstanceConfigRecord, groups: readonly string[]) => ({
  description: c.description,
  content: c.content,
  version: c.version,
  commit: c.commit,
  groups,
  // Why v2 agents never receive it (the content is not a mapping), or null.
  notForV2: c.notMapping ?? null,
  // How its content is checked, when its file declares it (src/domain/contentFormat.ts).
  ...(c.format ? { format: c.format } : {}),
});

const pipeline = (c: ConfigRecord, groups: readonly string[]) => ({ name: c.name, agentType: c.agentType, ...served(c, groups) });
const instance = (c: InstanceConfigRecord, groups: readonly string[]) => ({ name: c.name, ...served(c, groups) });

interface Kind<R> {
  readonly path: string;
  readonly what: "config" | "instance config";
  /** The list's key in the answer. */
  readonly plural: string;
  readonly records: (s: RepoState) => { readonly sorted: readonly R[]; readonly byName: ReadonlyMap<string, R> };
  readonly groups: (g: GroupSpec) => readonly string[] | undefined;
  readonly applying: (s: RepoState, name: string) => string[];
  readonly json: (r: R, groups: readonly string[]) => Record<string, unknown>;
}

const PIPELINES: Kind<ConfigRecord> = {
  path: "/api/v1/configs",
  what: "config",
  plural: "configs",
  records: (s) => ({ sorted: s.sortedConfigs, byName: s.configs }),
  groups: (g) => g.configs,
  applying: (s, name) => s.groupsApplying(name),
  json: pipeline,
};

const INSTANCES: Kind<InstanceConfigRecord> = {
  path: "/api/v1/instance-configs",
  what: "instance config",
  plural: "instanceConfigs",
  records: (s) => ({ sorted: s.sortedInstanceConfigs, byName: s.instanceConfigs }),
  groups: (g) => g.instanceConfigs,
  applying: (s, name) => s.groupsApplyingInstance(name),
  json: instance,
};

/**
 * The served commit's configs and instance configs as JSON (an extension: the alpha User API
 * knows no instance configs, versions, commits or the v2 rule), read from the in-memory snapshot:
 *   GET /api/v1/configs                  {servedCommit, configs: [...]}, sorted by name
 *   GET /api/v1/configs/:name            one config: name, agentType, description, content,
 *                                        version, commit, groups applying it, notForV2 (reason or null)
 *   GET /api/v1/instance-configs[/:name] the same for instance configs (no agentType)
 * Token-protected like the rest of /api/. 404 ConfigNotExist for a name the served commit lacks,
 * 400 InvalidParameter for a name no config can have.
 */
export function configsApiRouter(deps: ConfigsApiDeps): Router {
  const router = new Router();
  const routes = <R extends { name: string }>(kind: Kind<R>) => {
    router.get([kind.path, `${kind.path}/`], (ctx: Context) => {
      const state = deps.store.state;
      const groups = appliedBy(state, kind.groups);
      const list = kind.records(state).sorted.map((r) => kind.json(r, groups.get(r.name) ?? []));
      ctx.body = { code: "Accept", message: `List ${kind.what}s success`, servedCommit: state.commit || null, [kind.plural]: list };
    });
    router.get(`${kind.path}/:name`, (ctx: Context) => {
      const name = (ctx.params as Record<string, string>).name ?? "";
      if (!isValidName(name)) return answerCode(ctx, NOT_PROTOCOL, "InvalidParameter", nameRuleMessage(kind.what, name));
      const state = deps.store.state;
      const record = kind.records(state).byName.get(name);
      const What = kind.what === "config" ? "Config" : "Instance config";
      if (!record) return answerCode(ctx, NOT_PROTOCOL, "ConfigNotExist", `${What} ${name} doesn't exist in the served commit.`);
      ctx.body = { code: "Accept", message: `Get ${kind.what} success`, servedCommit: state.commit || null, ...kind.json(record, kind.applying(state, name)) };
    });
  };
  routes(PIPELINES);
  routes(INSTANCES);
  return router;
}
