import { isLate, type AgentRecord } from "./agent.ts";
import { DomainError } from "./errors.ts";
import { addressSelectorsIn, groupMatches, matchKey } from "./matching.ts";
import { isValidName, nameRuleMessage } from "./names.ts";
import type { RepoState } from "./repoState.ts";
import type { GroupSpec, Tag } from "./types.ts";
import type { WritePlan } from "./userOps.ts";

/** A whole group as one write: what `agent_groups/<name>.yaml` will say. */
export interface GroupReplacement {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly Tag[];
  readonly configs: readonly string[];
  /** Absent: the instance configs the group binds now stay bound. */
  readonly instanceConfigs?: readonly string[] | undefined;
}

const sortedUnique = (names: readonly string[]) => [...new Set(names)].sort();
const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) => (a ?? []).join("\0") === (b ?? []).join("\0") && (a === undefined) === (b === undefined);

/**
 * Creates or replaces a group in one commit: description, tags and the configs it applies at
 * once. The User API needs one write (one commit) per applied or removed config; a person editing
 * a group file changes all of it in one change, as in a pull request.
 */
export function planReplaceGroup(state: RepoState, input: GroupReplacement): WritePlan {
  if (!isValidName(input.name)) throw new DomainError("InvalidParameter", nameRuleMessage("agent group", input.name));
  input.tags.forEach((t, i) => {
    if (t.name === "") throw new DomainError("InvalidParameter", `tags[${i}].name is empty: every tag needs a name (its value may be empty).`);
  });
  for (const c of input.configs) {
    if (!state.configs.has(c)) throw new DomainError("ConfigNotExist", `Config ${c} doesn't exist in the served commit, so agent group ${input.name} cannot apply it.`);
  }
  for (const c of input.instanceConfigs ?? []) {
    if (!state.instanceConfigs.has(c)) throw new DomainError("ConfigNotExist", `Instance config ${c} doesn't exist in the served commit, so agent group ${input.name} cannot apply it.`);
  }
  const old = state.groups.get(input.name);
  const instanceConfigs = input.instanceConfigs !== undefined ? sortedUnique(input.instanceConfigs) : old?.instanceConfigs;
  const group: GroupSpec = {
    name: input.name,
    description: input.description,
    tags: input.tags.map((t) => ({ name: t.name, value: t.value })),
    configs: sortedUnique(input.configs),
    // Address and host name selectors are written in the file; a replacement through the API keeps them.
    ...(old?.ips !== undefined ? { ips: old.ips } : {}),
    ...(old?.hostnames !== undefined ? { hostnames: old.hostnames } : {}),
    ...(instanceConfigs !== undefined ? { instanceConfigs } : {}),
  };
  const message = `${old ? "Update" : "Create"} agent group ${input.name}`;
  const unchanged =
    old !== undefined &&
    old.description === group.description &&
    old.tags.length === group.tags.length &&
    old.tags.every((t, i) => t.name === group.tags[i]?.name && t.value === group.tags[i]?.value) &&
    same(old.configs, group.configs) &&
    same(old.instanceConfigs, group.instanceConfigs);
  return { changes: unchanged ? [] : [{ kind: "putGroup", group }], message };
}

/** How many live agents each group selects, and how many of those are late. */
export interface GroupCount {
  readonly agents: number;
  readonly late: number;
}

/**
 * Counts the agents of every group in one pass over the fleet; whether a group matches is decided
 * once per distinct tag set (a fleet has few), not once per agent and group.
 */
export function countGroupAgents(groups: readonly GroupSpec[], agents: Iterable<AgentRecord>, now: number): Map<string, GroupCount> {
  const agentsOf = new Array<number>(groups.length).fill(0);
  const lateOf = new Array<number>(groups.length).fill(0);
  const bySet = new Map<string, number[]>();
  const selectors = addressSelectorsIn(groups);
  for (const a of agents) {
    const hb = a.heartbeat;
    if (!hb) continue;
    const key = matchKey(a.tagsKey, hb.attributes, selectors);
    let matched = bySet.get(key);
    if (matched === undefined) {
      matched = [];
      groups.forEach((g, i) => {
        if (groupMatches(g, hb.tags, hb.attributes)) matched?.push(i);
      });
      bySet.set(key, matched);
    }
    const late = isLate(a, now);
    for (const i of matched) {
      agentsOf[i] = (agentsOf[i] ?? 0) + 1;
      if (late) lateOf[i] = (lateOf[i] ?? 0) + 1;
    }
  }
  return new Map(groups.map((g, i) => [g.name, { agents: agentsOf[i] ?? 0, late: lateOf[i] ?? 0 }]));
}

/** The groups (of `groups`) that select an agent with these tags. */
export function groupsOf(groups: readonly GroupSpec[], agent: AgentRecord): string[] {
  const hb = agent.heartbeat;
  return hb ? groups.filter((g) => groupMatches(g, hb.tags, hb.attributes)).map((g) => g.name) : [];
}
