import type { Alarm, ConfigReport, Heartbeat, Statistics, AgentRecord } from "../domain/agent.ts";
import { FULL, Part } from "./agentCodec.ts";
import type { Entry } from "./agentTable.ts";
import type { Interner } from "./interning.ts";

/** What a record holds beyond its id and times: its five parts (agentCodec.ts), decoded. */
export interface RecordContent {
  readonly heartbeat: Heartbeat | undefined;
  readonly pipelines: readonly ConfigReport[];
  readonly instances: readonly ConfigReport[];
  readonly statistics: Statistics | undefined;
  readonly alarms: readonly Alarm[];
}

/** A change to one agent's record made in another process (MemoryRegistry.absorb). */
export interface AbsorbedChange extends Partial<RecordContent> {
  readonly agentId: string;
  readonly lastSeenMs: number;
  readonly latestHeartbeatTime: number;
  readonly reportedMs: number;
  /** The v2 sequence number of the latest heartbeat, when it has one. */
  readonly sequenceNum?: number | undefined;
  /** The parts that changed (agentCodec's Part bits; 0 = only the times): their new values are the fields above, or in `whole`. */
  readonly mask: number;
  /**
   * The sender's whole record, sent when it had not heard of the agent before: all of it is taken
   * when this process has no live record of the agent, else only the parts in `mask`.
   */
  readonly whole?: RecordContent | undefined;
  /** Alarms the agent raised since (appended, as this process's own alarm() appends them). */
  readonly addedAlarms?: readonly Alarm[] | undefined;
}

/** What absorb wrote: the record, which parts, and whether the record was new (or expired) here. */
export interface Absorbed {
  readonly record: AgentRecord;
  readonly parts: number;
  readonly created: boolean;
}

/**
 * Writes a change another process of this server heard (src/agents/replication.ts) into `r`:
 * over a live record only the parts in `mask`, over a new (or expired) one the sender's whole
 * record. Values are interned as this process's own would be. Times only move forward. Returns
 * the parts written.
 */
export function absorbChange(r: Entry, change: AbsorbedChange, live: boolean, interner: Interner, maxAlarms: number): number {
  const parts = live ? change.mask : FULL;
  const given: Partial<RecordContent> = change.whole ?? change;
  if (parts & Part.H) {
    const hb = given.heartbeat;
    const old = r.heartbeat;
    if (hb === undefined) {
      if (old) interner.release(r.tagsKey);
      r.heartbeat = undefined;
      r.tagsKey = "[]";
    } else {
      r.heartbeat = { ...hb, tags: interner.tags(r, old?.tags, hb.tags), attributes: interner.attributes(old?.attributes, hb.attributes), runningStatus: interner.string(hb.runningStatus) };
    }
  }
  if (parts & Part.P) r.pipelines = interner.reports(r.pipelines, given.pipelines ?? []);
  if (parts & Part.I) r.instances = interner.reports(r.instances, given.instances ?? []);
  if (parts & Part.S) r.statistics = given.statistics;
  if (parts & Part.L) r.alarms = [...(given.alarms ?? [])];
  if (change.addedAlarms !== undefined) {
    r.alarms.push(...change.addedAlarms);
    if (r.alarms.length > maxAlarms) r.alarms.splice(0, r.alarms.length - maxAlarms);
  }
  const newer = change.lastSeenMs >= r.lastSeenMs;
  if (newer && change.sequenceNum !== undefined && r.heartbeat !== undefined && r.sequenceNum !== change.sequenceNum) r.sequenceNum = change.sequenceNum;
  r.lastSeenMs = Math.max(r.lastSeenMs, change.lastSeenMs);
  r.latestHeartbeatTime = Math.max(r.latestHeartbeatTime, change.latestHeartbeatTime);
  r.reportedMs = Math.max(r.reportedMs, change.reportedMs);
  return parts;
}
