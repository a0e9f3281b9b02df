import type { AgentRecord, ConfigKind, ConfigReport, Heartbeat, Statistics } from "./agent.ts";

/**
 * Where agents are remembered: in memory (one process) or shared (several replicas). Every
 * method the agent path calls is synchronous and never waits on I/O: a shared registry writes
 * behind and reads its own agents from a local cache.
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
   * Updates only the named configs of one kind (ReportStatus may carry a subset). Configs not
   * named keep their report.
   */
  updateConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void;
  statistics(agentId: string, stats: Statistics): void;
  alarm(agentId: string, type: string, detail: string): void;

  /** An agent that has sent a heartbeat and has not expired. */
  get(agentId: string): AgentRecord | undefined;
  /** Any live record, including agents known only from statistics or alarms. */
  find(agentId: string): AgentRecord | undefined;
  /** Live agents with a heartbeat, sorted by agent id. */
  list(): AgentRecord[];
  /** Live agents with a heartbeat, unsorted, without building a list. */
  each(visit: (record: AgentRecord) => void): void;
  /** How many agents list() would return, without building the list. */
  liveCount(): number;
  /** Records in memory, expired or not (for the known-agents gauge). */
  readonly size: number;
  /** Drops expired agents; returns how many. */
  sweep(): number;
}
