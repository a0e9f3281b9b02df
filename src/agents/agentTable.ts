import type { AgentRecord } from "../domain/agent.ts";
import { NO_REPORTS } from "./agentCodec.ts";
import { isExpired, liveSince } from "./expiry.ts";
import { IdOrder } from "./idOrder.ts";

/** The registry's own, mutable view of a record. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type Entry = Mutable<AgentRecord> & { alarms: AgentRecord["alarms"][number][]; dropped?: true };

/**
 * One process's agent records: found by id (the last one looked up at once), created on first
 * sight, expired after the TTL and swept, and read for listings (live agents, in id order).
 */
export class AgentTable {
  private readonly agents = new Map<string, Entry>();
  private readonly order = new IdOrder<Entry>();
  /**
   * The entry looked up last. One agent request calls the registry several times for one agent
   * (get, heartbeat, reportConfigs…): with tens of thousands of agents each first lookup misses
   * the CPU's caches, the next ones need not even hash the id. Cleared when entries are deleted.
   */
  private last: Entry | undefined;

  constructor(
    readonly ttlMs: number,
    readonly now: () => number,
  ) {}

  lookup(agentId: string): Entry | undefined {
    const last = this.last;
    if (last !== undefined && last.agentId === agentId) return last;
    const r = this.agents.get(agentId);
    if (r !== undefined) this.last = r;
    return r;
  }

  /** The agent's entry, made empty on first sight. */
  entry(agentId: string): Entry {
    let r = this.lookup(agentId);
    if (!r) {
      r = { agentId, heartbeat: undefined, tagsKey: "[]", latestHeartbeatTime: 0, lastSeenMs: 0, statistics: undefined, alarms: [], pipelines: NO_REPORTS, instances: NO_REPORTS, reportedMs: 0, sequenceNum: undefined, repeatMemo: undefined };
      this.agents.set(agentId, r);
      this.order.add(r);
      this.last = r;
    }
    return r;
  }

  expired(r: AgentRecord): boolean {
    return isExpired(r.lastSeenMs, this.ttlMs, this.now());
  }

  /** Drops expired entries (`dropped` is told each, e.g. to release its tags); returns how many. */
  sweep(dropped: (r: Entry) => void): number {
    this.last = undefined;
    let n = 0;
    for (const [id, r] of this.agents) {
      if (this.expired(r)) {
        this.agents.delete(id);
        r.dropped = true;
        dropped(r);
        n++;
      }
    }
    return n;
  }

  /** Entries in the table, expired or not. */
  get size(): number {
    return this.agents.size;
  }

  // ---- listing: live agents ----

  /** Live agents with a heartbeat, in agent-id order. */
  list(): AgentRecord[] {
    const cutoff = liveSince(this.ttlMs, this.now());
    const out: AgentRecord[] = [];
    for (const r of this.order.sorted(this.agents.size)) if (r.heartbeat !== undefined && r.lastSeenMs >= cutoff && r.dropped === undefined) out.push(r);
    return out;
  }

  /** Live agents with a heartbeat, unsorted. */
  each(visit: (record: AgentRecord) => void): void {
    const cutoff = liveSince(this.ttlMs, this.now());
    for (const r of this.agents.values()) if (r.heartbeat && r.lastSeenMs >= cutoff) visit(r);
  }

  /** Every live record, with or without a heartbeat. */
  eachKnown(visit: (record: AgentRecord) => void): void {
    for (const r of this.agents.values()) if (!this.expired(r)) visit(r);
  }

  /** A live record, with or without a heartbeat. */
  find(agentId: string): AgentRecord | undefined {
    const r = this.agents.get(agentId);
    return r && !this.expired(r) ? r : undefined;
  }

  count(): number {
    let n = 0;
    for (const r of this.agents.values()) if (r.heartbeat && !this.expired(r)) n++;
    return n;
  }
}
