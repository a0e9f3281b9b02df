import { formatDuration, type RolloutPolicy } from "./rolloutPolicy.ts";

/**
 * The wave state machine of one rollout, as pure functions: given the policy, where the rollout
 * stands and what the agents report, what it does next. The server (not here) keeps the state,
 * serves each agent by its wave, and acts on the result (a revert commit, events).
 */

export type RolloutStatus = "progressing" | "paused" | "halted" | "reverted" | "completed";

/** Where a rollout stands: what is kept between evaluations (and across restarts). Times in unix ms. */
export interface RolloutProgress {
  readonly status: RolloutStatus;
  /** The current wave, from 1: agents of waves 1..wave are served the new version. */
  readonly wave: number;
  readonly startedAt: number;
  /** When the current wave started (its agents' apply timeout counts from here, or from when each received it). */
  readonly waveStartedAt: number;
  /** When every live agent of waves 1..wave had applied: the bake counts from here. */
  readonly appliedAt?: number | undefined;
  /** When it halted, completed or was reverted. */
  readonly endedAt?: number | undefined;
  /** Why it halted, in words (for the API, the revert commit's message and events). */
  readonly haltReason?: string | undefined;
  /** Failures an operator accepted by resuming after a halt: the halt rule counts the ones beyond. */
  readonly acceptedFailures?: number | undefined;
}

/** Where one agent targeted by the config stands with the new version. */
export type AgentHealth = "applied" | "applying" | "failed" | "notReported";

export interface AgentReport {
  readonly instanceId: string;
  /** The agent's wave (waveOf), from 1. */
  readonly wave: number;
  readonly health: AgentHealth;
  /** The FAILED report's message ("" when the agent gave none: the real agents always send "" today). */
  readonly message?: string | undefined;
  /** False when the agent is past the agent TTL (no heartbeat). */
  readonly alive: boolean;
  /** Whether the server sent it the new version, and when (unix ms), if known. */
  readonly received: boolean;
  readonly receivedAt?: number | undefined;
  /**
   * Received the new version, and not heard from since this process started (a restart with an
   * in-memory registry): it holds its wave back like an agent that has not applied, but does not
   * time out, until it heartbeats again or a TTL has passed (then it is gone).
   */
  readonly unheard?: boolean | undefined;
}

export interface WaveCounts {
  readonly wave: number;
  /** The wave as written (`10%`, `25`, `tags env=staging`, `everyone else`). */
  readonly text: string;
  /** Agents of this wave that are alive or got the new version. */
  readonly targeted: number;
  readonly applied: number;
  readonly applying: number;
  /** FAILED, or gone (past the TTL) after receiving the new version. */
  readonly failed: number;
  readonly notReported: number;
  /** Past the TTL without ever receiving the new version: they neither fail nor hold a wave back. */
  readonly gone: number;
}

export type FailureKind = "failed" | "gone" | "timeout";

/** Agents that failed the same way, for people: `reason` reads well even when the message is empty. */
export interface FailureGroup {
  readonly kind: FailureKind;
  readonly message: string;
  readonly reason: string;
  readonly count: number;
  /** Instance ids, sorted, at most MAX_LISTED. */
  readonly agents: readonly string[];
}

export type RolloutAction = "none" | "advance" | "halt-pause" | "halt-revert" | "complete";

export interface RolloutPlan {
  readonly progress: RolloutProgress;
  readonly action: RolloutAction;
  readonly waves: readonly WaveCounts[];
  /** Most agents first; timeouts included (they fail the wave, not the halt rule's count). */
  readonly failures: readonly FailureGroup[];
  /** Failed agents in waves 1..wave, as the halt rule counts them (before accepted failures are taken off). */
  readonly failed: number;
  /** Agents of waves 1..wave that are alive or got the new version. */
  readonly reached: number;
}

export const MAX_LISTED = 100;

/** A new rollout: wave 1, from now. */
export function startRollout(now: number): RolloutProgress {
  return { status: "progressing", wave: 1, startedAt: now, waveStartedAt: now };
}

const FAILED_NO_MESSAGE = "reported FAILED without a message (the agent gives no reason: look at the agent's own log on its host)";

function reasonOf(kind: FailureKind, message: string, policy: RolloutPolicy): string {
  if (kind === "gone") return "stopped heartbeating after receiving the new version (no heartbeat within the agent TTL): check that the agent process still runs";
  if (kind === "timeout") return `did not apply the new version within applyTimeout ${formatDuration(policy.applyTimeoutMs)} (${message})`;
  return message === "" ? FAILED_NO_MESSAGE : `reported FAILED: ${message}`;
}

/**
 * One evaluation. Rules: the halt rule counts FAILED agents and agents gone after receiving the new
 * version, in waves 1..wave; an agent of those waves that is alive and has not applied within
 * `applyTimeout` (from the wave's start, or from when it received the version if later) fails the
 * wave; either halts (onHalt: pause or revert). A wave advances once every live agent of waves
 * 1..wave has applied and `bake` has passed since they all had; a wave with no agent of its own
 * does not bake. After the last wave the rollout is completed. A paused rollout does not advance
 * and does not time out, but failures still halt it. Halted, reverted and completed are final.
 */
export function planRollout(policy: RolloutPolicy, progress: RolloutProgress, reports: Iterable<AgentReport>, now: number): RolloutPlan {
  const last = policy.waves.length;
  const counts = policy.waves.map((w, i) => ({ wave: i + 1, text: w.text, targeted: 0, applied: 0, applying: 0, failed: 0, notReported: 0, gone: 0 }));
  const groups = new Map<string, { kind: FailureKind; message: string; agents: string[] }>();
  const fail = (kind: FailureKind, message: string, id: string) => {
    const key = `${kind}\u0000${message}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { kind, message, agents: [] }));
    g.agents.push(id);
  };
  // Per wave: live agents that have not applied (a wave advances when waves 1..wave have none).
  const pending = new Array<number>(last + 1).fill(0);
  const own = new Array<number>(last + 1).fill(0);
  let timedOut = 0;
  for (const r of reports) {
    const wave = Math.min(Math.max(1, r.wave), last);
    const c = counts[wave - 1] as (typeof counts)[number];
    const current = wave <= progress.wave;
    if (!r.alive && !r.received) {
      c.gone++;
      continue;
    }
    c.targeted++;
    own[wave] = (own[wave] ?? 0) + 1;
    if (r.health === "failed" || (!r.alive && r.received)) {
      c.failed++;
      if (current) fail(r.health === "failed" ? "failed" : "gone", r.health === "failed" ? (r.message ?? "") : "", r.instanceId);
      continue;
    }
    if (r.health === "applied") {
      c.applied++;
      continue;
    }
    if (r.health === "applying") c.applying++;
    else c.notReported++;
    if (!current) continue;
    pending[wave] = (pending[wave] ?? 0) + 1;
    const since = Math.max(progress.waveStartedAt, r.receivedAt ?? 0);
    if (progress.status === "progressing" && !r.unheard && now - since > policy.applyTimeoutMs) {
      timedOut++;
      fail("timeout", r.health === "applying" ? "still applying" : "never reported it", r.instanceId);
    }
  }
  const failures: FailureGroup[] = [...groups.values()].map((g) => ({
    kind: g.kind,
    message: g.message,
    reason: reasonOf(g.kind, g.message, policy),
    count: g.agents.length,
    agents: g.agents.sort().slice(0, MAX_LISTED),
  }));
  failures.sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0));
  let failed = 0;
  let reached = 0;
  for (const c of counts) {
    if (c.wave > progress.wave) break;
    failed += c.failed;
    reached += c.targeted;
  }
  const result = (next: RolloutProgress, action: RolloutAction): RolloutPlan => ({ progress: next, action, waves: counts, failures, failed, reached });

  if (progress.status === "halted" || progress.status === "reverted" || progress.status === "completed") return result(progress, "none");

  const counted = failed - (progress.acceptedFailures ?? 0);
  const ruleFired = counted > 0 && ("failed" in policy.halt ? counted >= policy.halt.failed : counted * 100 >= policy.halt.failedPercent * reached);
  if (ruleFired || timedOut > 0) {
    const rule = "failed" in policy.halt ? `halt: {failed: ${policy.halt.failed}}` : `halt: {failedPercent: ${policy.halt.failedPercent}}`;
    const why = ruleFired ? `${counted} of ${reached} agents reached failed (${rule})` : `${timedOut} agent${timedOut === 1 ? "" : "s"} did not apply within applyTimeout ${formatDuration(policy.applyTimeoutMs)}`;
    const detail = failures.map((f) => `${f.count} ${f.reason}: ${f.agents.join(", ")}${f.count > f.agents.length ? ", ..." : ""}`).join("; ");
    const haltReason = `halted at wave ${progress.wave} of ${last} (${policy.waves[progress.wave - 1]?.text ?? ""}): ${why}${detail ? `. ${detail}` : ""}`;
    return result({ ...progress, status: "halted", endedAt: now, haltReason }, policy.onHalt === "revert" ? "halt-revert" : "halt-pause");
  }
  if (progress.status === "paused") return result(progress, "none");

  let blocked = false;
  for (let w = 1; w <= progress.wave; w++) if ((pending[w] ?? 0) > 0) blocked = true;
  if (blocked) return result(progress, "none");
  const appliedAt = progress.appliedAt ?? now;
  // A wave with no agents of its own has nothing to watch: it does not bake.
  const empty = (own[progress.wave] ?? 0) === 0;
  if (!empty && now - appliedAt < policy.bakeMs) return result(appliedAt === progress.appliedAt ? progress : { ...progress, appliedAt }, "none");
  if (progress.wave >= last) return result({ ...progress, status: "completed", appliedAt, endedAt: now }, "complete");
  // Empty waves that follow are skipped at once, so a 1% wave of a ten-agent fleet costs no bake.
  let wave = progress.wave + 1;
  while (wave < last && (own[wave] ?? 0) === 0) wave++;
  return result({ ...progress, wave, waveStartedAt: now, appliedAt: undefined }, "advance");
}

/** An operator's pause: a progressing rollout stops advancing (agents keep what they have). */
export function pauseRollout(progress: RolloutProgress): RolloutProgress {
  return progress.status === "progressing" ? { ...progress, status: "paused" } : progress;
}

/**
 * An operator's resume: a paused rollout goes on; a halted one too (with onHalt: pause), its
 * failures so far accepted (the halt rule counts new ones) and its clocks restarted.
 */
export function resumeRollout(progress: RolloutProgress, failedNow: number, now: number): RolloutProgress {
  if (progress.status === "paused") return { ...progress, status: "progressing" };
  if (progress.status !== "halted") return progress;
  const { endedAt: _e, haltReason: _h, appliedAt: _a, ...rest } = progress;
  return { ...rest, status: "progressing", waveStartedAt: now, acceptedFailures: failedNow };
}

/** An operator's promote: straight to the last wave (every agent), still watched for failures. */
export function promoteRollout(policy: RolloutPolicy, progress: RolloutProgress, now: number): RolloutProgress {
  if (progress.status !== "progressing" && progress.status !== "paused") return progress;
  return { ...progress, status: "progressing", wave: policy.waves.length, waveStartedAt: now, appliedAt: undefined };
}

/** An operator's abort: halt now and revert (the server makes the revert commit, then calls revertedRollout). */
export function abortRollout(progress: RolloutProgress, who: string, now: number): { readonly progress: RolloutProgress; readonly action: RolloutAction } {
  if (progress.status === "reverted" || progress.status === "completed") return { progress, action: "none" };
  return { progress: { ...progress, status: "halted", endedAt: now, haltReason: `aborted by ${who} at wave ${progress.wave}` }, action: "halt-revert" };
}

/** After the revert commit is made: final. */
export function revertedRollout(progress: RolloutProgress, now: number): RolloutProgress {
  return { ...progress, status: "reverted", endedAt: progress.endedAt ?? now };
}
