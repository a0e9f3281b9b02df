import Router from "@koa/router";
import type { Context } from "koa";
import type { AgentRecord } from "../domain/agent.ts";
import { configDiff } from "../domain/configDiff.ts";
import { DomainError } from "../domain/errors.ts";
import { checkConfigFile, checkGroupFile } from "../domain/fileCheck.ts";
import { summarizeFleet } from "../domain/fleetSummary.ts";
import { countGroupAgents, planReplaceGroup, type GroupCount } from "../domain/groupOps.ts";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import { implicitDefaultGroup, type RepoState } from "../domain/repoState.ts";
import { DEFAULT_GROUP, type ConfigSpec, type GroupSpec, type Problem, type Tag } from "../domain/types.ts";
import { configVersionJson } from "../domain/configVersion.ts";
import { CONFIG_HISTORY, INSTANCE_CONFIG_HISTORY, noHistory, readHistory, readVersion, type HistoryKind } from "../store/configHistory.ts";
import { STATE_DIRS } from "../store/repoContent.ts";
import type { RepoStore } from "../store/repoStore.ts";
import { parseConfigFile, parseGroupFile } from "../store/yaml/parseFiles.ts";
import { pipelineJson } from "../store/yaml/pipelineJson.ts";
import { renderGroup } from "../store/yaml/renderFiles.ts";
import { withContentProblem } from "../store/contentCheck.ts";
import { jsonRoute, readJsonObject } from "./jsonRoute.ts";
import { writeOptions } from "./writeOptions.ts";

export interface ConsoleApiDeps {
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
  readonly now?: () => number;
  /** Largest request body (the server's --body-limit): a file being validated may be large. */
  readonly bodyLimit: number;
  readonly onError?: (error: unknown, ctx: Context) => void;
}

const COMMIT = /^[0-9a-f]{4,64}$/;
const COMMIT_CACHE = 1000;

/** Live agents of the fleet (with --registry redis://, every replica's: read from Redis). */
async function live(registry: AgentRegistry): Promise<AgentRecord[]> {
  const all: AgentRecord[] = [];
  await registry.each((a) => all.push(a));
  return all;
}

const groupJson = (g: GroupSpec, count: GroupCount | undefined) => ({
  name: g.name,
  description: g.description,
  tags: g.tags.map((t) => ({ name: t.name, value: t.value })),
  configs: g.configs,
  instanceConfigs: g.instanceConfigs ?? [],
  agents: count?.agents ?? 0,
  lateAgents: count?.late ?? 0,
});

const problemJson = (p: Problem) => ({ line: p.line, column: p.column, message: p.message });

function name(value: string | undefined, kind: "config" | "agent group"): string {
  if (!value || !isValidName(value)) throw new DomainError("InvalidParameter", nameRuleMessage(kind, value ?? ""));
  return value;
}

function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new DomainError("BadRequest", `Field ${field} must be a list of names (strings).`);
  return value as string[];
}

function tagList(value: unknown): Tag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new DomainError("BadRequest", "Field tags must be a list of {name, value} objects.");
  return value.map((t: unknown, i) => {
    const tag = t as Record<string, unknown> | null;
    if (!tag || typeof tag !== "object" || typeof tag.name !== "string" || (tag.value !== undefined && typeof tag.value !== "string")) {
      throw new DomainError("BadRequest", `tags[${i}] must be an object {name: string, value: string}.`);
    }
    return { name: tag.name, value: (tag.value as string | undefined) ?? "" };
  });
}

function version(value: unknown, field: string): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new DomainError("InvalidParameter", `Query parameter ${field} must be a config version (a non-negative integer), got ${JSON.stringify(value ?? null)}.`);
  return n;
}

/**
 * The JSON routes the web console needs beyond the rest of the API (docs/console.md lists them);
 * all are ordinary documented /api/v1 routes, token-protected like the rest of /api/:
 *   GET  /api/v1/fleet                    agents by protocol and version, late, failing
 *   GET  /api/v1/groups[/:name]           groups with their tags, configs and matching-agent counts
 *   PUT  /api/v1/groups/:name             create or replace a group (tags and configs) in one commit
 *   GET  /api/v1/files/:dir/:file         a state file's text in the served commit
 *   POST /api/v1/validate                 would this config or group file be served? problems by line
 *   GET  /api/v1/configs/:name/diff       what a version changed (from its previous version, or from=);
 *                                         the same under /api/v1/instance-configs/
 *   GET  /api/v1/commits/:commit          a commit's author, date and message
 */
export function consoleApiRouter(deps: ConsoleApiDeps): Router {
  const { store, registry } = deps;
  const now = deps.now ?? Date.now;
  const router = new Router({ prefix: "/api/v1" });
  const route = (fn: Parameters<typeof jsonRoute>[0]) => jsonRoute(fn, deps.onError);

  router.get("/fleet", route(async () => ({ message: "Get fleet summary success", ...summarizeFleet(await live(registry), now()) })));

  router.get(["/groups", "/groups/"], route(async () => {
    const agents = await live(registry);
    const state = store.state;
    const counts = countGroupAgents(state.sortedGroups, agents, now());
    return { message: "List agent groups success", servedCommit: state.commit || null, groups: state.sortedGroups.map((g) => groupJson(g, counts.get(g.name))) };
  }));
  router.get("/groups/:name", route(async (ctx) => {
    const agents = await live(registry);
    const state = store.state;
    const group = state.groups.get(name(ctx.params.name, "agent group"));
    if (!group) throw new DomainError("AgentGroupNotExist", `Agent group ${ctx.params.name} doesn't exist.`);
    return { message: "Get agent group success", servedCommit: state.commit || null, ...groupJson(group, countGroupAgents([group], agents, now()).get(group.name)) };
  }));
  router.put("/groups/:name", route(async (ctx) => {
    const groupName = name(ctx.params.name, "agent group");
    const body = await readJsonObject(ctx, 1024 * 1024, '{"description": "", "tags": [{"name": "env", "value": "prod"}], "configs": ["nginx-access"]}');
    const known = new Set(["groupName", "description", "tags", "configs", "instanceConfigs"]);
    for (const k of Object.keys(body)) if (!known.has(k)) throw new DomainError("BadRequest", `Unknown field ${JSON.stringify(k)}; a group has ${[...known].join(", ")}.`);
    if (body.groupName !== undefined && body.groupName !== groupName) throw new DomainError("InvalidParameter", `groupName ${JSON.stringify(body.groupName)} differs from the group in the path, ${groupName}.`);
    if (body.description !== undefined && typeof body.description !== "string") throw new DomainError("BadRequest", "Field description must be a string.");
    const input = {
      name: groupName,
      description: (body.description as string | undefined) ?? "",
      tags: tagList(body.tags),
      configs: body.configs === undefined ? [] : strings(body.configs, "configs"),
      instanceConfigs: body.instanceConfigs === undefined ? undefined : strings(body.instanceConfigs, "instanceConfigs"),
    };
    // Read before anything is planned: a malformed author or message is refused with nothing written.
    const options = writeOptions(ctx.req);
    const result = await store.write((state) => planReplaceGroup(state, input), options);
    const group = result.state.groups.get(groupName);
    return {
      message: result.commit ? `Saved agent group ${groupName}` : `Agent group ${groupName} already says this; nothing to commit`,
      commit: result.commit ?? null,
      ...(group ? { group: groupJson(group, undefined) } : {}),
    };
  }));

  router.get("/files/:dir/:file", route(async (ctx) => {
    const dir = ctx.params.dir ?? "";
    const file = ctx.params.file ?? "";
    const stem = file.endsWith(".yaml") ? file.slice(0, -".yaml".length) : "";
    if (!STATE_DIRS.includes(dir) || !isValidName(stem)) {
      throw new DomainError("InvalidParameter", `No such state file: files are ${STATE_DIRS.map((d) => `${d}/<name>.yaml`).join(", ")}.`);
    }
    const path = `${dir}/${file}`;
    const state = store.state;
    const [blob] = state.commit ? await store.git.catFileBatch([`${state.commit}:${path}`]) : [undefined];
    if (blob) return { message: "Get file success", path, commit: state.commit, exists: true, text: blob.toString("utf8") };
    // `default` exists without a file: this is the file that writing it would create.
    if (dir === "agent_groups" && stem === DEFAULT_GROUP) {
      const spec = state.groups.get(DEFAULT_GROUP) ?? implicitDefaultGroup();
      return { message: "Get file success", path, commit: state.commit || null, exists: false, text: renderGroup(spec) };
    }
    throw new DomainError(dir === "agent_groups" ? "AgentGroupNotExist" : "ConfigNotExist", `${path} is not in the served commit${state.commit ? ` ${state.commit.slice(0, 12)}` : ""}.`);
  }));

  router.post("/validate", route(async (ctx) => {
    const body = await readJsonObject(ctx, deps.bodyLimit, '{"kind": "config", "name": "nginx-access", "text": "config_name: nginx-access\\n..."}');
    const kind = body.kind;
    if (kind !== "config" && kind !== "group") throw new DomainError("BadRequest", `Field kind must be "config" or "group", got ${JSON.stringify(kind ?? null)}.`);
    if (typeof body.text !== "string") throw new DomainError("BadRequest", "Field text must be the file's YAML text (a string).");
    if (body.name !== undefined && typeof body.name !== "string") throw new DomainError("BadRequest", "Field name must be a string: the name of the config or group being edited (absent for a new file).");
    const editing = body.name === undefined || body.name === "" ? undefined : name(body.name as string, kind === "config" ? "config" : "agent group");
    const text = body.text;
    const state = store.state;
    if (kind === "config") {
      const path = `configs/${editing ?? "new"}.yaml`;
      // The server's own file checks, content included (src/store/contentCheck.ts), then the repository's.
      const parsed = withContentProblem(path, parseConfigFile(path, text), store.contentLimits);
      const verdict = checkConfigFile(state, parsed, editing);
      const problems: Problem[] = [...verdict.problems];
      const spec = verdict.spec;
      // Served anyway (plain-text credentials with --secrets warn): said, not refused.
      const warnings: Problem[] = [...parsed.warnings];
      if (spec && parsed.value) {
        // The User API has no format field: a write keeps the file's format, or writes none.
        const old = state.configs.get(spec.name)?.format;
        if (spec.format !== old) {
          const line = text.split("\n").findIndex((l) => l.startsWith("format:")) + 1 || 1;
          problems.push({ file: verdict.path, line, column: 1, message: `format ${old ? `must stay ${JSON.stringify(old)}` : "cannot be set here"}: the API writes a config's fields, not its format; change format: with a commit to the repository` });
        }
        const json = pipelineJson(spec.content, store.contentLimits);
        const place = parsed.value.contentPlace;
        if ("problem" in json) warnings.push({ file: verdict.path, line: place.block?.line ?? place.pos.line, column: 1, message: `${json.problem}: v2 agents will not receive this config (alpha and v1 agents still do)` });
      }
      return {
        message: problems.length ? "The file has problems" : "The file is valid",
        valid: problems.length === 0,
        path: verdict.path,
        problems: problems.map(problemJson),
        warnings: warnings.map(problemJson),
        ...(spec && problems.length === 0 ? { config: configJson(spec), exists: state.configs.has(spec.name), changed: changedConfig(state, spec) } : {}),
      };
    }
    const path = `agent_groups/${editing ?? "new"}.yaml`;
    const verdict = checkGroupFile(state, parseGroupFile(path, text), editing);
    const spec = verdict.spec;
    return {
      message: verdict.problems.length ? "The file has problems" : "The file is valid",
      valid: verdict.problems.length === 0,
      path: verdict.path,
      problems: verdict.problems.map(problemJson),
      warnings: [],
      // instanceConfigs stays absent when the file has no such list: a write then keeps the bound ones.
      ...(spec ? { group: { ...groupJson(spec, undefined), instanceConfigs: spec.instanceConfigs }, exists: state.groups.has(spec.name), changed: changedGroup(state, spec) } : {}),
    };
  }));

  const diffRoute = <S extends DiffSide>(prefix: string, kind: HistoryKind<S>) => {
    router.get(`${prefix}/:name/diff`, route(async (ctx) => {
      const configName = ctx.params.name ?? "";
      if (!isValidName(configName)) throw new DomainError("InvalidParameter", nameRuleMessage(kind.what, configName));
      // Up to HEAD, as the history: a refused version can be looked at too.
      const rev = "HEAD";
      const history = await readHistory(store.git, kind, configName, rev);
      const versions = history.filter((v) => v.action !== "deleted");
      if (versions.length === 0) throw noHistory(kind, configName);
      const served = (kind.what === "config" ? store.state.configs : store.state.instanceConfigs).get(configName)?.version;
      const to = ctx.query.to === undefined ? (served ?? versions[0]?.version ?? 0) : version(ctx.query.to, "to");
      const after = await readVersion(store.git, kind, configName, to, rev);
      let before: Awaited<ReturnType<typeof readVersion<S>>> | undefined;
      if (ctx.query.from !== undefined) {
        const from = version(ctx.query.from, "from");
        before = from === 0 ? undefined : await readVersion(store.git, kind, configName, from, rev);
      } else {
        // The version before `to` on the mainline (after a deletion the config came back new),
        // passing over versions that are not valid files (refused) and the same version kept by a rollback.
        for (const v of history.slice(history.findIndex((h) => h.commit === after.entry.commit) + 1)) {
          if (v.action === "deleted") break;
          if (v.version === to) continue;
          before = await readVersion(store.git, kind, configName, v.version, rev).catch(() => undefined);
          if (before) break;
        }
      }
      return {
        message: `Get ${kind.what} diff success`,
        configName,
        from: before ? configVersionJson(before.entry) : null,
        to: configVersionJson(after.entry),
        ...configDiff(before?.spec, after.spec),
      };
    }));
  };
  diffRoute("/configs", CONFIG_HISTORY);
  diffRoute("/instance-configs", INSTANCE_CONFIG_HISTORY);

  const commits = new Map<string, Record<string, unknown>>();
  router.get("/commits/:commit", route(async (ctx) => {
    const wanted = (ctx.params.commit ?? "").toLowerCase();
    if (!COMMIT.test(wanted)) throw new DomainError("InvalidParameter", `${JSON.stringify(ctx.params.commit)} is not a commit id (4 to 64 hexadecimal digits).`);
    const known = commits.get(wanted);
    if (known) return known;
    const out = await store.git.raw(["show", "-s", "--no-show-signature", "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%s%x00%b", `${wanted}^{commit}`, "--"]).catch(() => undefined);
    if (out === undefined) throw new DomainError("BadRequest", `Commit ${wanted} is not in the repository.`);
    const [commit = "", parents = "", author = "", authorEmail = "", authoredAt = "", committer = "", committerEmail = "", committedAt = "", subject = "", body = ""] = out.split("\0");
    const info = { message: "Get commit success", commit, parents: parents.split(" ").filter((p) => p !== ""), author, authorEmail, authoredAt, committer, committerEmail, committedAt, subject, body: body.trimEnd() };
    // Commits never change: each is read from git once.
    if (commits.size >= COMMIT_CACHE) commits.clear();
    commits.set(wanted, info);
    return info;
  }));
  return router;
}

type DiffSide = Parameters<typeof configDiff>[1];

const configJson = (c: ConfigSpec) => ({ configName: c.name, agentType: c.agentType, description: c.description, content: c.content });

function changedConfig(state: RepoState, spec: ConfigSpec): boolean {
  const old = state.configs.get(spec.name);
  return !old || old.agentType !== spec.agentType || old.description !== spec.description || old.content !== spec.content;
}

function changedGroup(state: RepoState, spec: GroupSpec): boolean {
  const old = state.groups.get(spec.name);
  return !old || planReplaceGroup(state, spec).changes.length > 0;
}
