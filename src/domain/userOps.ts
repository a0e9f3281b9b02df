import { contentProblemMessage, type ContentCheck } from "./contentFormat.ts";
import { DomainError } from "./errors.ts";
import { isValidName, nameRuleMessage } from "./names.ts";
import type { RepoState } from "./repoState.ts";
import { DEFAULT_GROUP, type ConfigRecord, type ConfigSpec, type GroupSpec, type Tag } from "./types.ts";

/** One file-level effect of a User API write; the store turns it into a file change. */
export type Change =
  | { readonly kind: "putConfig"; readonly config: ConfigSpec }
  /**
   * A config file put back exactly as it was (`text`); `keeps`: the served version's commit, when
   * that is its content; `rollbackTo`: a rollback to that version (the commit says so: rollouts do not stage it).
   */
  | { readonly kind: "restoreConfig"; readonly config: ConfigSpec; readonly text: string; readonly keeps?: string; readonly rollbackTo?: number }
  | { readonly kind: "deleteConfig"; readonly name: string }
  /** An instance config file put back exactly as it was (a rollout's revert), or deleted (`text` undefined). */
  | { readonly kind: "restoreInstanceConfig"; readonly name: string; readonly text: string | undefined }
  | { readonly kind: "putGroup"; readonly group: GroupSpec }
  | { readonly kind: "deleteGroup"; readonly name: string };

/** What a write does; no changes means nothing to commit. */
export interface WritePlan {
  readonly changes: readonly Change[];
  readonly message: string;
}

// Checks and messages are the reference ConfigServer's (iLogtail's alpha config_server), exactly
// and in its order, so existing tools get the same answers (test/groups.test.ts pins every row);
// the name rule (src/domain/names.ts) comes right after the parameter checks so that no bad name
// ever reaches the file system.

function param(value: string, message: string): void {
  if (value === "") throw new DomainError("BadRequest", message);
}

function rule(kind: "config" | "agent group", name: string): void {
  if (!isValidName(name)) throw new DomainError("InvalidParameter", nameRuleMessage(kind, name));
}

function group(state: RepoState, name: string): GroupSpec {
  const g = state.groups.get(name);
  if (!g) throw new DomainError("AgentGroupNotExist", `Agent group ${name} doesn't exist.`);
  return g;
}

function config(state: RepoState, name: string): ConfigRecord {
  const c = state.configs.get(name);
  if (!c) throw new DomainError("ConfigNotExist", `Config ${name} doesn't exist.`);
  return c;
}

function sameTags(a: readonly Tag[], b: readonly Tag[]): boolean {
  return a.length === b.length && a.every((t, i) => t.name === b[i]?.name && t.value === b[i]?.value);
}

export interface GroupInput {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly Tag[];
}

/** Every tag needs a name (a group file cannot hold a nameless tag); values may be empty. */
function checkTags(tags: readonly Tag[]): void {
  tags.forEach((t, i) => {
    if (t.name === "") throw new DomainError("InvalidParameter", `agent_group.tags[${i}].name is empty: every tag needs a name (its value may be empty).`);
  });
}

export function planCreateGroup(state: RepoState, input: GroupInput): WritePlan {
  param(input.name, "Agent group need parameter GroupName.");
  rule("agent group", input.name);
  checkTags(input.tags);
  if (state.groups.has(input.name)) throw new DomainError("AgentGroupAlreadyExist", `Agent group ${input.name} already exists.`);
  const created: GroupSpec = { name: input.name, description: input.description, tags: input.tags, configs: [] };
  return { changes: [{ kind: "putGroup", group: created }], message: `Create agent group ${input.name}` };
}

export function planUpdateGroup(state: RepoState, input: GroupInput): WritePlan {
  param(input.name, "Agent group need parameter groupName.");
  rule("agent group", input.name);
  checkTags(input.tags);
  const old = group(state, input.name);
  const message = `Update agent group ${input.name}`;
  if (old.description === input.description && sameTags(old.tags, input.tags)) return { changes: [], message };
  return { changes: [{ kind: "putGroup", group: { ...old, description: input.description, tags: input.tags } }], message };
}

export function planDeleteGroup(state: RepoState, name: string): WritePlan {
  param(name, "Agent group need parameter groupName.");
  if (name === DEFAULT_GROUP) throw new DomainError("BadRequest", "Cannot delete agent group 'default'");
  rule("agent group", name);
  const old = group(state, name);
  if (old.configs.length > 0) {
    throw new DomainError("Conflict", `Agent group ${name} was applied to some configs, cannot be deleted.`, "InternalServerError");
  }
  return { changes: [{ kind: "deleteGroup", name }], message: `Delete agent group ${name}` };
}

export function getGroup(state: RepoState, name: string): GroupSpec {
  param(name, "Agent group need parameter groupName.");
  rule("agent group", name);
  return group(state, name);
}

function checkConfigInput(input: ConfigSpec): void {
  param(input.name, "Need parameter ConfigName.");
  param(input.content, "Need parameter Content.");
  rule("config", input.name);
}

/**
 * Content meant as a pipeline must parse (src/domain/contentFormat.ts). Checked after the
 * protocol's own checks, so every answer the protocol defines stays as it was.
 */
function checkContent(spec: ConfigSpec, check: ContentCheck): void {
  const problem = check(spec.content, spec.format);
  if (problem) throw new DomainError("InvalidParameter", contentProblemMessage("config", spec.name, problem, spec.format));
}

export function planCreateConfig(state: RepoState, input: ConfigSpec, check: ContentCheck): WritePlan {
  checkConfigInput(input);
  if (state.configs.has(input.name)) throw new DomainError("ConfigAlreadyExist", `Config ${input.name} already exists.`);
  checkContent(input, check);
  return { changes: [{ kind: "putConfig", config: input }], message: `Create config ${input.name}` };
}

export function planUpdateConfig(state: RepoState, input: ConfigSpec, check: ContentCheck): WritePlan {
  checkConfigInput(input);
  const old = config(state, input.name);
  const message = `Update config ${input.name}`;
  if (old.agentType === input.agentType && old.description === input.description && old.content === input.content) {
    return { changes: [], message };
  }
  // The User API cannot say a format: the one the file declares stays, and the check follows it.
  const next: ConfigSpec = old.format !== undefined ? { ...input, format: old.format } : input;
  checkContent(next, check);
  return { changes: [{ kind: "putConfig", config: next }], message };
}

export function planDeleteConfig(state: RepoState, name: string): WritePlan {
  param(name, "Need parameter ConfigName.");
  rule("config", name);
  config(state, name);
  if (state.groupsApplying(name).length > 0) {
    throw new DomainError("Conflict", `Config ${name} was applied to some agent groups, cannot be deleted.`, "InternalServerError");
  }
  return { changes: [{ kind: "deleteConfig", name }], message: `Delete config ${name}` };
}

export function getConfig(state: RepoState, name: string): ConfigRecord {
  param(name, "Need parameter ConfigName.");
  rule("config", name);
  return config(state, name);
}

function bindingTargets(state: RepoState, groupName: string, configName: string): GroupSpec {
  param(groupName, "Need parameter groupName.");
  param(configName, "Need parameter configName.");
  rule("agent group", groupName);
  rule("config", configName);
  const g = group(state, groupName);
  config(state, configName);
  return g;
}

export function planApplyConfig(state: RepoState, groupName: string, configName: string): WritePlan {
  const g = bindingTargets(state, groupName, configName);
  if (g.configs.includes(configName)) {
    throw new DomainError("ConfigAlreadyExist", `Agent group ${groupName} already has config ${configName}.`);
  }
  const configs = [...g.configs, configName].sort();
  return { changes: [{ kind: "putGroup", group: { ...g, configs } }], message: `Apply config ${configName} to agent group ${groupName}` };
}

export function planRemoveConfig(state: RepoState, groupName: string, configName: string): WritePlan {
  const g = bindingTargets(state, groupName, configName);
  if (!g.configs.includes(configName)) {
    throw new DomainError("ConfigNotExist", `Agent group ${groupName} doesn't have config ${configName}.`);
  }
  const configs = g.configs.filter((c) => c !== configName);
  return { changes: [{ kind: "putGroup", group: { ...g, configs } }], message: `Remove config ${configName} from agent group ${groupName}` };
}

export function appliedConfigsOf(state: RepoState, groupName: string): readonly string[] {
  param(groupName, "Need parameter GroupName.");
  rule("agent group", groupName);
  return group(state, groupName).configs;
}

export function groupsApplying(state: RepoState, configName: string): string[] {
  param(configName, "Need parameter ConfigName.");
  rule("config", configName);
  config(state, configName);
  return state.groupsApplying(configName);
}

/** ListAgents' checks; the caller lists the matching agents. */
export function groupForListing(state: RepoState, groupName: string): GroupSpec {
  param(groupName, "Need parameter groupName.");
  rule("agent group", groupName);
  return group(state, groupName);
}
