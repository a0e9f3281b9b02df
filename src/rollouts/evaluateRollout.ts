import type { AgentRecord } from "../domain/agent.ts";
import type { RepoState } from "../domain/repoState.ts";
import { planRollout, type RolloutPlan } from "../domain/rolloutPlan.ts";
import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import type { RolloutEvent, RolloutRecord } from "./rolloutRecord.ts";
import { cutsThrough, gatherReports, servedCuts } from "./rolloutReportsOf.ts";

export interface EvaluationInput {
  readonly state: RepoState;
  readonly policy: RolloutPolicy;
  readonly record: RolloutRecord;
  /** Every agent of the fleet, read once for all rollouts of this evaluation. */
  readonly agents: readonly AgentRecord[];
  /**
   * Whether an agent that received the new version and is not among `agents` is known to the
   * registry (alive, but no longer targeted by the config).
   */
  readonly live: (instanceId: string) => boolean;
  /** Until when an agent that received the new version and is not known yet is waited for rather than gone (a TTL after the process started). */
  readonly unheardUntil: number;
  /** Agents this process (or its workers, or another replica) first served the new version since the last evaluation, with when. */
  readonly served: ReadonlyMap<string, number> | undefined;
  readonly nowMs: number;
  readonly ttlMs: number;
}

export interface Evaluation {
  /** The record after this evaluation (the same object when nothing changed). */
  readonly record: RolloutRecord;
  readonly plan: RolloutPlan;
  /** What the agents are served changed (a count wave cut, an advance, a halt, a completion). */
  readonly overlayChanged: boolean;
  /** What the rollout did by itself, as kept in its history. */
  readonly events: readonly RolloutEvent[];
}

/**
 * One rollout's evaluation: makes the count cuts of the waves reached, records the agents that
 * received the new version, and runs the wave plan (domain/rolloutPlan.ts) on the agents' reports.
 * Pure but for reading its input; the controller acts on the result.
 */
export function evaluateRollout(i: EvaluationInput): Evaluation {
  const { state, policy, agents, live, nowMs, ttlMs } = i;
  const gather = (r: RolloutRecord, cuts = servedCuts(policy, r)) => gatherReports(state, policy, r, cuts, agents, live, nowMs, ttlMs, i.unheardUntil);
  let r = i.record;
  let overlayChanged = false;
  let gathered = gather(r);
  if ((r.cutWaves ?? 0) < r.progress.wave) {
    r = { ...r, ...cutsThrough(policy, r, r.progress.wave, gathered.targeted) };
    overlayChanged = true;
    gathered = gather(r);
  }
  const fresh = [...(i.served?.entries() ?? [])].filter(([id]) => r.received[id] === undefined);
  if (gathered.newlyReceived.length > 0 || fresh.length > 0) {
    const received = { ...r.received };
    for (const [id, at] of fresh) received[id] = at;
    for (const id of gathered.newlyReceived) received[id] ??= nowMs;
    r = { ...r, received };
    if (fresh.length > 0) gathered = gather(r);
  }
  if (policy.waves.some((w, n) => w.kind === "count" && n >= (r.cutWaves ?? 0))) {
    // The plan sees the count waves not cut yet as they would be cut now: served as nobody,
    // they would look empty and be skipped (`waves: [1, 3, 100%]` would never stop at 3).
    gathered = gather(r, cutsThrough(policy, r, policy.waves.length, gathered.targeted).cuts);
  }
  const plan = planRollout(policy, r.progress, gathered.reports, nowMs);
  const events: RolloutEvent[] = [];
  if (plan.progress !== r.progress) {
    if (plan.action === "advance") events.push({ at: nowMs, who: "server", action: "advanced", detail: `to wave ${plan.progress.wave} of ${policy.waves.length} (${policy.waves[plan.progress.wave - 1]?.text ?? ""})` });
    if (plan.action === "complete") events.push({ at: nowMs, who: "server", action: "completed", detail: `version ${r.to.version} reached every agent` });
    if (plan.action === "halt-pause" || plan.action === "halt-revert") events.push({ at: nowMs, who: "server", action: "halted", detail: plan.progress.haltReason });
    r = { ...r, progress: plan.progress, history: [...r.history, ...events] };
    if (plan.action !== "none") overlayChanged = true;
  }
  return { record: r, plan, overlayChanged, events };
}
