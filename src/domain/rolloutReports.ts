import type { AgentRecord, ConfigKind } from "./agent.ts";
import { findReport, standing } from "./rollout.ts";
import type { AgentHealth, AgentReport } from "./rolloutPlan.ts";

/**
 * Where an agent stands with version `version` of a config, from what it last reported: v2
 * APPLIED (alpha and v1: reporting the version) is applied, FAILED failed, v2 APPLYING or no
 * status applying; another version or none is not reported.
 */
export function healthOf(record: AgentRecord, kind: ConfigKind, name: string, version: number): AgentHealth {
  const protocol = record.heartbeat?.protocol ?? "v2";
  const s = standing(protocol, findReport(kind === "pipeline" ? record.pipelines : record.instances, name), version);
  return s === "older" ? "notReported" : s;
}

/** The report of the config's FAILED status message, when it has one. */
function failedMessage(record: AgentRecord, kind: ConfigKind, name: string): string {
  return findReport(kind === "pipeline" ? record.pipelines : record.instances, name)?.message ?? "";
}

export interface ReportInput {
  readonly instanceId: string;
  /** The agent's wave for this config (waveOf). */
  readonly wave: number;
  /** Its registry record; undefined once it expired (past the TTL) and was forgotten. */
  readonly record: AgentRecord | undefined;
  readonly kind: ConfigKind;
  readonly name: string;
  readonly version: number;
  readonly nowMs: number;
  /** The agent TTL (0: agents never expire). */
  readonly ttlMs: number;
  /** When the server sent it the new version, if it did (the rollout's own record of deliveries). */
  readonly receivedAt?: number | undefined;
}

/**
 * One agent's input to planRollout. Alive: known, with a heartbeat, and seen within the TTL. An
 * agent that reports the new version (in any state) has received it even if the delivery was not
 * recorded (another replica sent it); a forgotten agent keeps its last known health unknown:
 * not reported.
 */
export function agentReport(i: ReportInput): AgentReport {
  const r = i.record;
  const alive = r?.heartbeat !== undefined && (i.ttlMs <= 0 || i.nowMs - r.lastSeenMs <= i.ttlMs);
  const health: AgentHealth = r ? healthOf(r, i.kind, i.name, i.version) : "notReported";
  const received = i.receivedAt !== undefined || health !== "notReported";
  return {
    instanceId: i.instanceId,
    wave: i.wave,
    health,
    ...(health === "failed" && r ? { message: failedMessage(r, i.kind, i.name) } : {}),
    alive,
    received,
    ...(i.receivedAt !== undefined ? { receivedAt: i.receivedAt } : {}),
  };
}
