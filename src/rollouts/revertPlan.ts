import type { RolloutPlan } from "../domain/rolloutPlan.ts";
import type { ConfigRecord } from "../domain/types.ts";
import type { WritePlan } from "../domain/userOps.ts";
import type { RolloutRecord } from "./rolloutRecord.ts";

/**
 * The revert commit of a halted rollout of a pipeline config: its file as it was at the version
 * that last reached everyone. The message says what happened so the history explains itself:
 * config, wave, counts per wave, and the failures grouped by reason, naming their agents (the
 * reasons read well when agents gave no message: they say where to look).
 */
export function revertPlan(r: RolloutRecord, plan: RolloutPlan | undefined, why: string): WritePlan {
  const from = r.from as ConfigRecord;
  const { name, agentType, description, content, format } = from;
  const lines = [`Revert config ${r.name} to version ${from.version}: rollout of version ${r.to.version} halted at wave ${r.progress.wave}`, "", why, ""];
  lines.push(`Rollout of config ${r.name}: version ${from.version} (commit ${from.commit.slice(0, 12)}) to version ${r.to.version} (commit ${r.to.commit.slice(0, 12)}).`);
  for (const w of plan?.waves ?? []) {
    lines.push(`Wave ${w.wave} (${w.text}): ${w.targeted} targeted, ${w.applied} applied, ${w.applying} applying, ${w.failed} failed, ${w.notReported} not reported`);
  }
  const failures = plan?.failures ?? [];
  if (failures.length > 0) {
    lines.push("", "Failures:");
    for (const f of failures) lines.push(`- ${f.count} agent(s) ${f.reason}: ${f.agents.join(", ")}${f.count > f.agents.length ? ", ..." : ""}`);
  }
  lines.push("", "Agents that never received the new version were not sent anything.");
  return { changes: [{ kind: "putConfig", config: { name, agentType, description, content, ...(format ? { format } : {}) } }], message: lines.join("\n") };
}
