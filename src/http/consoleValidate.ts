import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import { checkConfigFile, checkGroupFile } from "../domain/fileCheck.ts";
import { planReplaceGroup } from "../domain/groupOps.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { ConfigSpec, GroupSpec, Problem } from "../domain/types.ts";
import { withContentProblem } from "../store/contentCheck.ts";
import type { RepoStore } from "../store/repoStore.ts";
import { parseConfigFile, parseGroupFile } from "../store/yaml/parseFiles.ts";
import { pipelineJson } from "../store/yaml/pipelineJson.ts";
import { groupJson, validName } from "./consoleGroups.ts";
import { readJsonObject } from "./jsonRoute.ts";

// The console's editor asks, before saving, whether the server would serve a config or group file
// as typed (consoleApi.ts routes it): the server's own checks against the served commit, and
// what an API write cannot do. Nothing is written.

export interface ValidateDeps {
  readonly store: RepoStore;
  /** Largest request body (the server's --body-limit): a file being validated may be large. */
  readonly bodyLimit: number;
}

const problemJson = (p: Problem) => ({ line: p.line, column: p.column, message: p.message });

const configJson = (c: ConfigSpec) => ({ configName: c.name, agentType: c.agentType, description: c.description, content: c.content });

/** POST /api/v1/validate */
export function validateFile({ store, bodyLimit }: ValidateDeps) {
  return async (ctx: Context) => {
    const body = await readJsonObject(ctx, bodyLimit, '{"kind": "config", "name": "nginx-access", "text": "config_name: nginx-access\\n..."}');
    const kind = body.kind;
    if (kind !== "config" && kind !== "group") throw new DomainError("BadRequest", `Field kind must be "config" or "group", got ${JSON.stringify(kind ?? null)}.`);
    if (typeof body.text !== "string") throw new DomainError("BadRequest", "Field text must be the file's YAML text (a string).");
    if (body.name !== undefined && typeof body.name !== "string") throw new DomainError("BadRequest", "Field name must be a string: the name of the config or group being edited (absent for a new file).");
    const editing = body.name === undefined || body.name === "" ? undefined : validName(body.name as string, kind === "config" ? "config" : "agent group");
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
  };
}

function changedConfig(state: RepoState, spec: ConfigSpec): boolean {
  const old = state.configs.get(spec.name);
  return !old || old.agentType !== spec.agentType || old.description !== spec.description || old.content !== spec.content;
}

function changedGroup(state: RepoState, spec: GroupSpec): boolean {
  const old = state.groups.get(spec.name);
  return !old || planReplaceGroup(state, spec).changes.length > 0;
}
