/**
 * The protocol-neutral agent record: whatever protocol an agent speaks (alpha, v1, v2), the
 * registry keeps the same shape, group matching reads the same tags and rollouts read the same
 * per-config reports.
 */

export type AgentProtocol = "alpha" | "v1" | "v2" | "opamp";

/** Whether the protocol's agents say how applying a config went (APPLYING/APPLIED/FAILED), not only which version they hold. */
export const reportsApplyStatus = (protocol: AgentProtocol): boolean => protocol === "v2" || protocol === "opamp";

/**
 * An agent's tags as its protocol sends them. alpha and v2 tags are named ({name: value}); v1
 * tags are values only, so a v1 agent matches a group tag by value (docs/protocols/v1.md, "Tags").
 */
export interface AgentTags {
  readonly named: Readonly<Record<string, string>>;
  /** v1 only: the tag values, names unknown. */
  readonly values?: readonly string[] | undefined;
}

/** How applying a config went, as v2 reports it (alpha and v1 report versions only: UNSET). */
export const ApplyStatus = { UNSET: 0, APPLYING: 1, APPLIED: 2, FAILED: 3 } as const;
export type ApplyStatus = (typeof ApplyStatus)[keyof typeof ApplyStatus];
export const APPLY_STATUS_NAMES = ["UNSET", "APPLYING", "APPLIED", "FAILED"] as const;

/** One config an agent says it holds. */
export interface ConfigReport {
  readonly name: string;
  readonly version: number;
  readonly status: ApplyStatus;
  readonly message: string;
}

/** Pipeline configs (`configs/`) and instance configs (`instance_configs/`, v2 and v1 agent configs). */
export type ConfigKind = "pipeline" | "instance";

export interface AgentAttributes {
  readonly agentType: string;
  readonly version: string;
  readonly ip: string;
  readonly hostname: string;
  /** Everything else the agent says about itself (v2 hostid and extras, v1 category/region/zone/extras). */
  readonly extras: Readonly<Record<string, string>>;
}

/** What one heartbeat says, in any protocol. */
export interface Heartbeat {
  readonly agentId: string;
  readonly protocol: AgentProtocol;
  readonly attributes: AgentAttributes;
  readonly tags: AgentTags;
  readonly runningStatus: string;
  readonly startupTime: number;
  /** Seconds between heartbeats when the agent says (v1 `interval`); else undefined. */
  readonly intervalSeconds?: number | undefined;
  /** v2 `sequence_num`. */
  readonly sequenceNum?: number | undefined;
  /** v2 agent capability bits. */
  readonly capabilities?: number | undefined;
}

export interface Alarm {
  readonly type: string;
  readonly detail: string;
  /** Server time, unix seconds. */
  readonly time: number;
}

export interface Statistics {
  readonly cpu: number;
  readonly memory: string;
  readonly extras: Readonly<Record<string, string>>;
}

/** An agent as the registry remembers it. Read-only to everyone but the registry. */
export interface AgentRecord {
  readonly agentId: string;
  /** The latest heartbeat, or undefined for an agent known only from statistics or alarms. */
  readonly heartbeat: Heartbeat | undefined;
  /** Cache key of the heartbeat's tag set (RepoState.appliedConfigs is cached by it). */
  readonly tagsKey: string;
  /** Server time of the latest heartbeat, unix seconds (the protocol's unit). */
  readonly latestHeartbeatTime: number;
  /** Server time of the latest message of any kind, unix milliseconds. */
  readonly lastSeenMs: number;
  readonly statistics: Statistics | undefined;
  readonly alarms: readonly Alarm[];
  /** The configs of each kind the agent last reported, sorted by name. */
  readonly pipelines: readonly ConfigReport[];
  readonly instances: readonly ConfigReport[];
  /** Server time of the latest report of configs, unix milliseconds (0 = never reported). */
  readonly reportedMs: number;
  /**
   * The latest heartbeat's v2 `sequence_num` (undefined for other protocols). Kept beside the
   * heartbeat, not in it: it moves with every beat, and a heartbeat that repeats the previous one
   * otherwise is not rebuilt.
   */
  readonly sequenceNum?: number | undefined;
  /**
   * A slot the registry makes (undefined) with the record and drops with it, and never reads: the
   * agent path's note of the agent's last requests. Read and written only through the answer
   * cache's port (src/protocols/answerCache.ts, memoOf/keepMemo).
   */
  readonly repeatMemo?: unknown;
}

/** Heartbeat interval assumed when the agent does not say (LoongCollector's default). */
export const DEFAULT_INTERVAL_SECONDS = 10;

/** An agent is late when no heartbeat came for three of its intervals. */
export function isLate(record: AgentRecord, nowMs: number): boolean {
  if (!record.heartbeat) return false;
  const interval = record.heartbeat.intervalSeconds || DEFAULT_INTERVAL_SECONDS;
  return nowMs - record.latestHeartbeatTime * 1000 > 3 * interval * 1000;
}

/** running_details as ListAgents shows them: CPU with 6 decimals, Memory, then extras. */
export function runningDetails(stats: Statistics | undefined): Record<string, string> {
  if (!stats) return {};
  return { ...stats.extras, CPU: stats.cpu.toFixed(6), Memory: stats.memory };
}
