import { bindingKey, boundNames, groupsApplying, groupsText, restoredGroups } from "../domain/groupBindings.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { RolloutPlan } from "../domain/rolloutPlan.ts";
import type { WritePlan } from "../domain/userOps.ts";
import { revertPlan } from "./revertPlan.ts";
import type { RolloutRecord } from "./rolloutRecord.ts";

/**
 * The revert commit of a halted rollout whose commit changed the config's groups (a group bound or
 * unbound it, or changed its selectors): the group files put back so the groups of before apply it
 * as they did (their selectors included), and the config's file as it was when its content changed
 * too. Undefined when the groups of `state` are those of before: the content's revert (revertPlan)
 * is all there is. The message is revertPlan's, headed for the groups and saying what each does.
 */
export function bindingRevertPlan(r: RolloutRecord, state: RepoState, plan: RolloutPlan | undefined, why: string, fromText: string | undefined): WritePlan | undefined {
  const before = r.fromGroups;
  const from = r.from;
  if (before === undefined || from === undefined || r.to.version === -1) return undefined;
  const now = groupsApplying(state, r.kind, r.name);
  if (bindingKey(now) === bindingKey(before)) return undefined;
  const current = r.kind === "pipeline" ? state.configs.get(r.name) : state.instanceConfigs.get(r.name);
  const contentBack = current !== undefined && current.content !== from.content;
  const content = revertPlan(r, plan, why, state, fromText);
  const groups = restoredGroups(state, r.kind, r.name, before);
  const lines = [
    `Revert the groups of config ${r.name}${contentBack ? ` and its content to version ${from.version}` : ""}: rollout halted at wave ${r.progress.wave}`,
    ...content.message.split("\n").slice(1),
    "",
    `Groups put back: config ${r.name} is applied by ${groupsText(before)} as at version ${from.version} (the halted commit had it applied by ${groupsText(now)}).`,
  ];
  for (const g of groups) {
    const applies = boundNames(g, r.kind).includes(r.name);
    lines.push(`- agent_groups/${g.name}.yaml: ${applies ? `applies ${r.name}, with its selectors of before` : `no longer applies ${r.name}`}`);
  }
  return {
    changes: [...(contentBack ? content.changes : []), ...groups.map((group) => ({ kind: "putGroup" as const, group }))],
    message: lines.join("\n"),
  };
}
