import type { AgentRecord, ConfigKind, ConfigReport, Heartbeat, Statistics } from "./agent.ts";

/** What AgentRegistry.repeated says is unchanged (bit flags). */
export const REPEATED = { HEARTBEAT: 1, REPORTS: 2 } as const;

/** Whether the fleet view is whole: a shared registry is degraded while its store is unreachable. */
export interface FleetViewStatus {
  /** "memory": this process only; "redis": shared by every replica. */
  readonly backend: "memory" | "redis";
  readonly shared: boolean;
  /** Listings may miss agents that reached other replicas, and writes are held or dropped. */
  readonly degraded: boolean;
  /** Why it is degraded (the last error), when it is. */
  readonly reason?: string | undefined;
  /** Agent changes waiting to be written to the shared store. */
  readonly pendingWrites: number;
  /** Agent changes dropped because the pending bound was reached (since start). */
  readonly droppedWrites: number;
}

/**
 * Where agents are remembered: in memory (one process) or shared (several replicas).
 *
 * Two sides. The agent path (heartbeat … get, sweep) is synchronous and never waits on I/O: a
 * shared registry writes behind and reads its own agents from a local cache. The listing side
 * (find, list, each, liveCount) answers for the whole fleet, so a shared registry reads its
 * store: it returns Promises.
 */
export interface AgentRegistry {
  /** Agents silent for this long are dropped; 0 keeps them. */
  readonly ttlMs: number;

  /**
   * Records a heartbeat. Returns the agent's previous heartbeat when it was known (and not
   * expired), so a protocol can tell a first sight or a sequence gap.
   */
  heartbeat(beat: Heartbeat): Heartbeat | undefined;
  /**
   * Records the configs of one kind an agent reports holding (a v2 heartbeat or ReportStatus,
   * the versions of an alpha GetConfigList or a v1 heartbeat), replacing that kind's report.
   * `reports` must be sorted by name; an array equal to the last one may be the same object.
   */
  reportConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void;
  /**
   * The agent sent what it sent last, and it was recorded then: its heartbeat (`REPEATED.HEARTBEAT`)
   * and/or its reports (`REPEATED.REPORTS`) are unchanged, only their times move (and the v2
   * sequence number, when given). What heartbeat() and reportConfigs() with the same values would
   * do, for a protocol that knows they are the same without decoding them again (the agent path's
   * repeat cache: src/protocols/answerCache.ts). The agent must be live (get() returns it).
   */
  repeated(agentId: string, parts: number, sequenceNum?: number): void;
  /**
   * Updates only the named configs of one kind (ReportStatus may carry a subset). Configs not
   * named keep their report.
   */
  updateConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void;
  statistics(agentId: string, stats: Statistics): void;
  alarm(agentId: string, type: string, detail: string): void;

  /** An agent that has sent a heartbeat and has not expired. */
  get(agentId: string): AgentRecord | undefined;
  /** Records in this process's memory, expired or not (for the known-agents gauge). */
  readonly size: number;
  /** Drops expired agents from memory; returns how many. */
  sweep(): number;

  /** Any live record of the fleet, including agents known only from statistics or alarms. */
  find(agentId: string): Promise<AgentRecord | undefined>;
  /** Live agents of the fleet with a heartbeat, sorted by agent id. */
  list(): Promise<AgentRecord[]>;
  /** Live agents of the fleet with a heartbeat, unsorted, without building a list. */
  each(visit: (record: AgentRecord) => void): Promise<void>;
  /** How many agents list() would return, without building the list. */
  liveCount(): Promise<number>;

  /** Whether the fleet view is shared and whole (for /status and metrics). */
  status(): FleetViewStatus;
  /** Writes what is pending (bounded) and lets go of connections. */
  close(): Promise<void>;
}
