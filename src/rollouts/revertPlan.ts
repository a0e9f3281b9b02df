import { DomainError } from "../domain/errors.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { RolloutPlan } from "../domain/rolloutPlan.ts";
import type { ConfigRecord, GroupSpec } from "../domain/types.ts";
import type { Change, WritePlan } from "../domain/userOps.ts";
import type { RolloutRecord } from "./rolloutRecord.ts";

/**
 * The revert commit of a halted rollout: the repository as it was at the version that last
 * reached everyone, for every kind of rollout:
 * - a change of a pipeline config: its file with the previous content (the rest of the file, its
 *   `rollout:` key included, as it is now);
 * - a change of an instance config: its file exactly as it was (`fromText`);
 * - a removal: the file exactly as it was (`fromText`) and its bindings in the groups that had it
 *   (`fromGroups`; a group deleted since comes back with this binding only, so no other config
 *   reaches anyone through the revert);
 * - a new config: its file deleted and its bindings removed (the store's delete op would leave the
 *   groups naming a config that no longer exists, a commit validation refuses).
 * The message says what happened so the history explains itself: config, wave, counts per wave,
 * and the failures grouped by reason, naming their agents (the reasons read well when agents gave
 * no message: they say where to look).
 */
export function revertPlan(r: RolloutRecord, plan: RolloutPlan | undefined, why: string, state: RepoState, fromText: string | undefined): WritePlan {
  const what = r.kind === "instance" ? "instance config" : "config";
  const wave = r.progress.wave;
  const { changes, subject, done } = r.from === undefined ? deleteNew(r, state) : r.to.version === -1 ? restoreRemoved(r, state, need(r, fromText)) : restoreChanged(r, fromText);
  const fromVersion = r.from ? `version ${r.from.version} (commit ${r.from.commit.slice(0, 12)})` : "none (a new config)";
  const toText = r.to.version === -1 ? `its removal (commit ${r.to.commit.slice(0, 12)})` : `version ${r.to.version} (commit ${r.to.commit.slice(0, 12)})`;
  const lines = [`Revert ${what} ${r.name}${subject}: rollout of ${r.to.version === -1 ? "its removal" : `version ${r.to.version}`} halted at wave ${wave}`, "", why, ""];
  lines.push(`Rollout of ${what} ${r.name}: ${fromVersion} to ${toText}.`);
  for (const w of plan?.waves ?? []) {
    lines.push(`Wave ${w.wave} (${w.text}): ${w.targeted} targeted, ${w.applied} applied, ${w.applying} applying, ${w.failed} failed, ${w.notReported} not reported`);
  }
  const failures = plan?.failures ?? [];
  if (failures.length > 0) {
    lines.push("", "Failures:");
    for (const f of failures) lines.push(`- ${f.count} agent(s) ${f.reason}: ${f.agents.join(", ")}${f.count > f.agents.length ? ", ..." : ""}`);
  }
  if (done) lines.push("", done);
  lines.push("", `Agents that never received the ${r.to.version === -1 ? "removal" : "new version"} were not sent anything.`);
  return { changes, message: lines.join("\n") };
}

interface Part {
  readonly changes: Change[];
  /** What follows the config's name in the subject. */
  readonly subject: string;
  /** A sentence saying what the commit does beyond the file, if anything. */
  readonly done?: string;
}

const listOf = (g: GroupSpec, kind: RolloutRecord["kind"]): readonly string[] => (kind === "pipeline" ? g.configs : (g.instanceConfigs ?? []));
const withList = (g: GroupSpec, kind: RolloutRecord["kind"], list: readonly string[]): GroupSpec => (kind === "pipeline" ? { ...g, configs: list } : { ...g, instanceConfigs: list });
const groupNames = (groups: readonly GroupSpec[]) => groups.map((g) => g.name).join(", ");

function need(r: RolloutRecord, text: string | undefined): string {
  if (text === undefined) throw new DomainError("InternalServerError", `the file of ${r.kind === "instance" ? "instance config" : "config"} ${r.name} at commit ${r.from?.commit.slice(0, 12) ?? "?"} could not be read`);
  return text;
}

function fileChange(r: RolloutRecord, text: string | undefined): Change {
  if (r.kind === "instance") return { kind: "restoreInstanceConfig", name: r.name, text };
  if (text === undefined) return { kind: "deleteConfig", name: r.name };
  const { name, agentType, description, content, format } = r.from as ConfigRecord;
  return { kind: "restoreConfig", config: { name, agentType, description, content, ...(format ? { format } : {}) }, text };
}

function restoreChanged(r: RolloutRecord, fromText: string | undefined): Part {
  const subject = ` to version ${r.from?.version ?? "?"}`;
  if (r.kind === "instance") return { changes: [fileChange(r, need(r, fromText))], subject };
  const { name, agentType, description, content, format } = r.from as ConfigRecord;
  return { changes: [{ kind: "putConfig", config: { name, agentType, description, content, ...(format ? { format } : {}) } }], subject };
}

function restoreRemoved(r: RolloutRecord, state: RepoState, fromText: string): Part {
  const changes: Change[] = [];
  const present = r.kind === "pipeline" ? state.configs.has(r.name) : state.instanceConfigs.has(r.name);
  if (!present) changes.push(fileChange(r, fromText));
  const groups = r.fromGroups ?? [];
  for (const before of groups) {
    const now = state.groups.get(before.name);
    if (now !== undefined && listOf(now, r.kind).includes(r.name)) continue;
    // A group deleted since comes back with this binding only.
    const base = now ?? { ...before, configs: [], instanceConfigs: undefined };
    changes.push({ kind: "putGroup", group: withList(base, r.kind, [...listOf(base, r.kind), r.name].sort()) });
  }
  const bound = groups.length > 0 ? ` and its binding in agent group(s) ${groupNames(groups)}` : "";
  return { changes, subject: ` to version ${r.from?.version ?? "?"}`, done: `Restores ${r.kind === "instance" ? "instance_configs" : "configs"}/${r.name}.yaml as at commit ${r.from?.commit.slice(0, 12) ?? "?"}${bound}.` };
}

function deleteNew(r: RolloutRecord, state: RepoState): Part {
  const changes: Change[] = [];
  const present = r.kind === "pipeline" ? state.configs.has(r.name) : state.instanceConfigs.has(r.name);
  if (present) changes.push(fileChange(r, undefined));
  const bound = state.sortedGroups.filter((g) => listOf(g, r.kind).includes(r.name));
  for (const g of bound) changes.push({ kind: "putGroup", group: withList(g, r.kind, listOf(g, r.kind).filter((n) => n !== r.name)) });
  const unbound = bound.length > 0 ? ` and its binding in agent group(s) ${groupNames(bound)}` : "";
  return { changes, subject: ": delete it (a new config)", done: `Deletes ${r.kind === "instance" ? "instance_configs" : "configs"}/${r.name}.yaml${unbound}: no agent had it before the rollout.` };
}
