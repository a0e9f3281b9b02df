import type { AgentRecord, AgentTags, ConfigReport } from "../domain/agent.ts";
import { tagsKey } from "../domain/matching.ts";
import { IdOrder } from "./idOrder.ts";
import { decodeAlarms, decodeHeartbeat, decodeReports, decodeStatistics, decodeTimes, NO_REPORTS, type StoredRecord } from "./agentCodec.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
interface Entry extends Mutable<AgentRecord> {
  /** The write sequence of the parts held (the stored record's rev). */
  rev: string;
  dropped?: true;
}

/** Distinct values kept for sharing; past this, values are decoded per agent (still correct). */
const MAX_SHARED = 10_000;

/**
 * One replica's copy of the whole fleet as Redis holds it: what listings, rollouts and /status
 * read after catching up with the writes logged since the last listing. Records are decoded
 * once per change, and values a fleet repeats (report lists, tag sets) are shared.
 */
export class FleetMirror {
  private readonly agents = new Map<string, Entry>();
  private readonly order = new IdOrder<Entry>();
  private readonly reports = new Map<string, readonly ConfigReport[]>();
  private readonly tagSets = new Map<string, AgentTags>();

  get size(): number {
    return this.agents.size;
  }

  rev(agentId: string): string | undefined {
    return this.agents.get(agentId)?.rev;
  }

  clear(): void {
    for (const e of this.agents.values()) e.dropped = true;
    this.agents.clear();
    this.order.clear();
  }

  delete(agentId: string): void {
    const e = this.agents.get(agentId);
    if (e === undefined) return;
    e.dropped = true;
    this.agents.delete(agentId);
  }

  /** Only the times moved (`header` is a stored record's first 51 characters, with the rev held). */
  setTimes(agentId: string, header: string): boolean {
    const e = this.agents.get(agentId);
    if (e === undefined) return false;
    Object.assign(e, decodeTimes(header));
    return true;
  }

  /** A whole record as read from Redis. */
  set(agentId: string, parts: StoredRecord): void {
    let e = this.agents.get(agentId);
    if (e === undefined) {
      e = { agentId, heartbeat: undefined, tagsKey: "[]", latestHeartbeatTime: 0, lastSeenMs: 0, statistics: undefined, alarms: [], pipelines: NO_REPORTS, instances: NO_REPORTS, reportedMs: 0, rev: "", repeatMemo: undefined };
      this.agents.set(agentId, e);
      this.order.add(e);
    }
    const hb = decodeHeartbeat(agentId, parts.h);
    if (hb !== undefined) {
      const key = tagsKey(hb.tags);
      let tags = this.tagSets.get(key);
      if (tags === undefined) {
        tags = hb.tags;
        if (this.tagSets.size < MAX_SHARED) this.tagSets.set(key, tags);
      }
      e.heartbeat = { ...hb, tags };
      e.tagsKey = key;
    } else {
      e.heartbeat = undefined;
      e.tagsKey = "[]";
    }
    e.pipelines = this.reportsOf(parts.p);
    e.instances = this.reportsOf(parts.i);
    e.statistics = decodeStatistics(parts.s);
    e.alarms = decodeAlarms(parts.l);
    e.rev = parts.rev;
    Object.assign(e, parts.times);
  }

  private reportsOf(text: string): readonly ConfigReport[] {
    let r = this.reports.get(text);
    if (r === undefined) {
      r = decodeReports(text);
      if (this.reports.size < MAX_SHARED) this.reports.set(text, r);
    }
    return r;
  }

  find(agentId: string, cutoffMs: number): AgentRecord | undefined {
    const e = this.agents.get(agentId);
    return e !== undefined && e.lastSeenMs >= cutoffMs ? e : undefined;
  }

  /** Live agents with a heartbeat, sorted by id. */
  list(cutoffMs: number): AgentRecord[] {
    const out: AgentRecord[] = [];
    for (const e of this.sorted()) if (e.heartbeat !== undefined && e.lastSeenMs >= cutoffMs && e.dropped === undefined) out.push(e);
    return out;
  }

  each(cutoffMs: number, visit: (r: AgentRecord) => void): void {
    for (const e of this.agents.values()) if (e.heartbeat !== undefined && e.lastSeenMs >= cutoffMs) visit(e);
  }

  /** Forgets records older than the cutoff (their Redis keys have expired too). */
  sweep(cutoffMs: number): number {
    let n = 0;
    for (const [id, e] of this.agents) {
      if (e.lastSeenMs < cutoffMs) {
        e.dropped = true;
        this.agents.delete(id);
        n++;
      }
    }
    return n;
  }

  private sorted(): readonly Entry[] {
    return this.order.sorted(this.agents.size);
  }
}
