import type { AgentRecord } from "../domain/agent.ts";
import { groupMatches } from "../domain/matching.ts";
import { appliedList, findReport, targets } from "../domain/rollout.ts";
import { countCuts, waveOf, type CountCut } from "../domain/rolloutBucket.ts";
import type { AgentReport } from "../domain/rolloutPlan.ts";
import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import { agentReport } from "../domain/rolloutReports.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { RollingConfig } from "../domain/rolloutOverlay.ts";
import { isActive, type RolloutRecord } from "./rolloutRecord.ts";

/** A count wave whose cut is not made yet selects nobody (bucket -1 sorts before every agent). */
export const NOBODY: CountCut = Object.freeze({ bucket: -1, instanceId: "" });

/**
 * The cuts the overlay serves by: those made (waves 1..cutWaves), NOBODY for count waves not
 * made yet (the evaluation makes a wave's cut as it starts, from the agents the config targets).
 */
export function servedCuts(policy: RolloutPolicy, r: RolloutRecord): (CountCut | undefined)[] {
  return policy.waves.map((w, i) => (i < (r.cutWaves ?? 0) ? r.cuts[i] : w.kind === "count" ? NOBODY : undefined));
}

/** Cuts made for waves 1..wave (kept for the waves made before), from the agents the config targets now. */
export function cutsThrough(policy: RolloutPolicy, r: RolloutRecord, wave: number, targeted: readonly string[]): { cuts: (CountCut | undefined)[]; cutWaves: number } {
  const made = r.cutWaves ?? 0;
  if (made >= wave) return { cuts: [...r.cuts], cutWaves: made };
  const fresh = countCuts(policy, r.name, targeted);
  const cuts = policy.waves.map((_, i) => (i < made ? r.cuts[i] : i < wave ? fresh[i] : undefined));
  return { cuts, cutWaves: wave };
}

export interface Gathered {
  readonly reports: AgentReport[];
  /** Instance ids of live agents the config targets. */
  readonly targeted: string[];
  /** Agents that report the new version for the first time. */
  readonly newlyReceived: string[];
}

/**
 * The plan's input for one rollout: the live agents whose answer for the config changes (the
 * commit targets them with it, or the groups of before gave it to them and the commit does not;
 * one that keeps the same version, by the groups of before and of now, is not targeted), and every
 * agent that received the new version (one gone since counts as failed). An agent that loses the
 * config has applied once it no longer reports it.
 */
export function gatherReports(state: RepoState, policy: RolloutPolicy, r: RolloutRecord, cuts: readonly (CountCut | undefined)[], agents: readonly AgentRecord[], live: (id: string) => boolean, nowMs: number, ttlMs: number, unheardUntil = 0): Gathered {
  const config = r.kind === "pipeline" ? state.configs.get(r.name) : state.instanceConfigs.get(r.name);
  const reports: AgentReport[] = [];
  const targeted: string[] = [];
  const newlyReceived: string[] = [];
  const from = r.from;
  // A rollout recorded before the groups of before were kept decides by the commit's groups only.
  const fromGroups = from === undefined ? undefined : r.fromGroups;
  // Both answers depend only on the agent's protocol and what its groups match: computed once per
  // applied list (the snapshot shares one per set of matches) and per tag set, not per agent (an
  // evaluation looks at every agent for every rollout; BENCHMARKS.md, "Rollouts").
  const getsMemo = new Map<string, Map<object, boolean>>();
  const hadMemo = new Map<string, boolean>();
  const fromByAddress = fromGroups?.some((g) => (g.ips?.length ?? 0) > 0 || (g.hostnames?.length ?? 0) > 0) ?? false;
  for (const record of agents) {
    const hb = record.heartbeat;
    if (!hb) continue;
    let gets = false;
    if (config !== undefined) {
      const applied = state.applied(record.tagsKey, hb.tags, hb.attributes);
      let byApplied = getsMemo.get(hb.protocol);
      if (byApplied === undefined) getsMemo.set(hb.protocol, (byApplied = new Map()));
      const known = byApplied.get(applied);
      if (known !== undefined) gets = known;
      else byApplied.set(applied, (gets = targets(config, hb.protocol, appliedList(applied, r.kind, hb.protocol))));
    }
    // OpAMP agents never take these configs; v2 agents only mappings.
    let had = false;
    if (fromGroups !== undefined && hb.protocol !== "opamp" && (hb.protocol !== "v2" || from?.detailJson !== undefined)) {
      const key = fromByAddress ? undefined : record.tagsKey;
      const known = key === undefined ? undefined : hadMemo.get(key);
      if (known !== undefined) had = known;
      else {
        had = fromGroups.some((g) => groupMatches(g, hb.tags, hb.attributes));
        if (key !== undefined) hadMemo.set(key, had);
      }
    }
    if (gets ? had && from?.version === config?.version : !had) continue;
    const id = record.agentId;
    targeted.push(id);
    const wave = waveOf(policy, r.name, { instanceId: id, tags: hb.tags, ip: hb.attributes.ip, hostname: hb.attributes.hostname }, cuts);
    if (!gets) {
      // It loses the config: applied once it no longer reports it.
      const report = findReport(r.kind === "pipeline" ? record.pipelines : record.instances, r.name);
      const gone = report === undefined || report.version === -1;
      const alive = ttlMs <= 0 || nowMs - record.lastSeenMs <= ttlMs;
      reports.push({ instanceId: id, wave, health: gone ? "applied" : "applying", alive, received: gone });
      continue;
    }
    const report = agentReport({ instanceId: id, wave, record, kind: r.kind, name: r.name, version: r.to.version, nowMs, ttlMs, receivedAt: r.received[id] });
    if (report.received && r.received[id] === undefined) newlyReceived.push(id);
    reports.push(report);
  }
  // Receivers no longer among the live agents: gone after receiving it (unless alive and no longer targeted).
  for (const id of Object.keys(r.received)) {
    // `agents` came from the registry: one of them is known to it, so only the others are looked at.
    if (live(id)) continue;
    if (nowMs < unheardUntil) {
      // This process started less than a TTL ago and has not heard from it yet: not gone, not applied.
      reports.push({ instanceId: id, wave: r.progress.wave, health: "notReported", alive: true, received: true, receivedAt: r.received[id], unheard: true });
      continue;
    }
    reports.push(agentReport({ instanceId: id, wave: r.progress.wave, record: undefined, kind: r.kind, name: r.name, version: r.to.version, nowMs, ttlMs, receivedAt: r.received[id] }));
  }
  return { reports, targeted, newlyReceived };
}

/** A pinned config serves `from` to everyone: its policy is not consulted. */
const PINNED_POLICY: RolloutPolicy = Object.freeze({ waves: [], bakeMs: 0, applyTimeoutMs: 0, halt: { failed: 1 }, onHalt: "pause", source: "" });

/** What the overlay serves for the rollouts in progress (a rolling config without a policy any more serves the commit). */
export function rollingConfigs(rollouts: Iterable<RolloutRecord>, policyOf: (r: RolloutRecord) => RolloutPolicy | undefined): RollingConfig[] {
  const entries: RollingConfig[] = [];
  for (const r of rollouts) {
    if (!isActive(r)) continue;
    const policy = policyOf(r);
    const fromGroups = r.fromGroups;
    // Halted and being reverted with its groups of before kept: wave 0 (nobody has the change), agents get what those groups gave them.
    if (r.mode === "pinned" && fromGroups !== undefined) entries.push({ kind: r.kind, name: r.name, mode: "waves", policy: policy ?? PINNED_POLICY, wave: 0, cuts: [], from: r.from, fromGroups });
    else if (r.mode === "pinned") entries.push({ kind: r.kind, name: r.name, mode: "pinned", policy: policy ?? PINNED_POLICY, wave: 0, cuts: [], from: r.from });
    else if (policy) entries.push({ kind: r.kind, name: r.name, mode: "waves", policy, wave: r.progress.wave, cuts: servedCuts(policy, r), from: r.from, ...(fromGroups ? { fromGroups } : {}) });
  }
  return entries;
}
