import type { AgentRecord, AgentTags, Alarm, ConfigKind, ConfigReport, Heartbeat, Statistics } from "../domain/agent.ts";
import { sameTags, tagsKey } from "../domain/matching.ts";
import { REPEATED, type AgentRegistry, type FleetViewStatus } from "../domain/registry.ts";
import { FULL, Part } from "./agentCodec.ts";
import { IdOrder } from "./idOrder.ts";
import { byName } from "../domain/names.ts";

export interface RegistryOptions {
  /** How many recent alarms are kept per agent. */
  readonly maxAlarms?: number;
  /** Agents silent for this long are dropped; 0 keeps them forever. */
  readonly ttlMs?: number;
  /** Injected for tests of expiry. */
  readonly now?: () => number;
  /**
   * Told after every change which parts of the record changed (agentCodec's Part bits: none when
   * only its times moved), and whether the agent was unknown (or expired) before: how a shared
   * registry knows what to write behind without comparing records itself.
   */
  readonly onChange?: (record: AgentRecord, parts: number, first: boolean) => void;
}

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

/** The registry's own, mutable view of a record. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Entry = Mutable<AgentRecord> & { alarms: AgentRecord["alarms"][number][]; dropped?: true };

/** One distinct tag set, shared by every agent that reports it (a fleet has few of them). */
interface TagSet {
  readonly key: string;
  readonly tags: AgentTags;
  /** Agents whose latest heartbeat has this set: the set is forgotten when none has. */
  refs: number;
}

/** Short strings many agents repeat (agent type, version, running status) are kept once. */
const MAX_INTERNED = 1000;
const MAX_INTERNED_LENGTH = 256;
const MAX_REPORT_SETS = 10_000;
const MAX_REPORT_KEY_BYTES = 16 * 1024 * 1024;
const NONE: readonly ConfigReport[] = Object.freeze([]);

/** Agents as last heard from. Memory only: agents re-announce themselves every few seconds. */
export class MemoryRegistry implements AgentRegistry {
  private readonly agents = new Map<string, Entry>();
  private readonly order = new IdOrder<Entry>();
  private readonly tagSets = new Map<string, TagSet>();
  private readonly strings = new Map<string, string>();
  /** Report lists by content, shared by the agents that report the same one. */
  private readonly reportSets = new Map<string, readonly ConfigReport[]>();
  private reportKeyBytes = 0;
  private readonly maxAlarms: number;
  private readonly now: () => number;
  private readonly onChange: RegistryOptions["onChange"];
  readonly ttlMs: number;

  constructor(options: RegistryOptions = {}) {
    this.maxAlarms = options.maxAlarms ?? 100;
    this.ttlMs = options.ttlMs ?? 0;
    this.now = options.now ?? Date.now;
    this.onChange = options.onChange;
  }

  /**
   * The entry looked up last. One agent request calls the registry several times for one agent
   * (get, heartbeat, reportConfigs…): with tens of thousands of agents each first lookup misses
   * the CPU's caches, the next ones need not even hash the id. Cleared when an entry is deleted.
   */
  private last: Entry | undefined;

  private lookup(agentId: string): Entry | undefined {
    const last = this.last;
    if (last !== undefined && last.agentId === agentId) return last;
    const r = this.agents.get(agentId);
    if (r !== undefined) this.last = r;
    return r;
  }

  private record(agentId: string): Entry {
    let r = this.lookup(agentId);
    if (!r) {
      r = { agentId, heartbeat: undefined, tagsKey: "[]", latestHeartbeatTime: 0, lastSeenMs: 0, statistics: undefined, alarms: [], pipelines: NONE, instances: NONE, reportedMs: 0, sequenceNum: undefined, repeatMemo: undefined };
      this.agents.set(agentId, r);
      this.order.add(r);
      this.last = r;
    }
    return r;
  }

  heartbeat(hb: Heartbeat): Heartbeat | undefined {
    const r = this.record(hb.agentId);
    const now = this.now();
    const old = r.heartbeat;
    // Heartbeats are immutable (one replaces the last when it differs), so the previous one is
    // returned as is. Its sequence number is the record's, read before this call.
    const previous = old && !this.expired(r) ? old : undefined;
    const tags = this.retag(r, old, hb.tags);
    const attributes = this.attributesOf(old, hb.attributes);
    const runningStatus = old !== undefined && old.runningStatus === hb.runningStatus ? old.runningStatus : this.intern(hb.runningStatus);
    // The common heartbeat repeats the last one: the record keeps its heartbeat object (a new one
    // per beat, held by a long-lived record, is garbage the collector must copy and promote).
    // The sequence number is not part of it: it moves with every v2 beat.
    const same = old !== undefined && tags === old.tags && attributes === old.attributes && runningStatus === old.runningStatus
      && hb.startupTime === old.startupTime && hb.protocol === old.protocol && hb.intervalSeconds === old.intervalSeconds && hb.capabilities === old.capabilities;
    if (!same) {
      r.heartbeat = {
        agentId: r.agentId,
        protocol: hb.protocol,
        attributes,
        tags,
        runningStatus,
        startupTime: hb.startupTime,
        intervalSeconds: hb.intervalSeconds,
        capabilities: hb.capabilities,
      };
    }
    if (r.sequenceNum !== hb.sequenceNum) r.sequenceNum = hb.sequenceNum;
    const seconds = Math.floor(now / 1000);
    if (r.latestHeartbeatTime !== seconds) r.latestHeartbeatTime = seconds;
    r.lastSeenMs = now;
    // The sequence number is not part of what changed: it is the protocol's business with this process.
    this.onChange?.(r, same && previous !== undefined ? 0 : Part.H, previous === undefined);
    return previous;
  }

  /** Most heartbeats repeat the same tags: the old (shared) set is kept rather than its key rebuilt. */
  private retag(r: Entry, old: Heartbeat | undefined, next: AgentTags): AgentTags {
    if (old && sameTags(old.tags, next)) return old.tags;
    if (old) this.release(r.tagsKey);
    const key = tagsKey(next);
    let set = this.tagSets.get(key);
    if (set === undefined) this.tagSets.set(key, (set = { key, tags: freezeTags(next), refs: 0 }));
    set.refs++;
    r.tagsKey = set.key;
    return set.tags;
  }

  /** A fleet repeats its attributes: the previous object is kept while nothing changed. */
  private attributesOf(old: Heartbeat | undefined, a: Heartbeat["attributes"]): Heartbeat["attributes"] {
    const oa = old?.attributes;
    return oa && oa.agentType === a.agentType && oa.version === a.version && oa.ip === a.ip && oa.hostname === a.hostname && sameStrings(oa.extras, a.extras)
      ? oa
      : { agentType: this.intern(a.agentType), version: this.intern(a.version), ip: a.ip, hostname: a.hostname, extras: a.extras };
  }

  /**
   * Takes a change another process of this server heard (src/agents/replication.ts): no onChange,
   * since it is not news from an agent here. Times only move forward. Over a live record, only the
   * parts in `mask` are written; a missing (or expired) one needs the sender's whole record, else
   * nothing is written and undefined is returned (the caller asks for it whole).
   */
  absorb(change: AbsorbedChange): Absorbed | undefined {
    let r = this.lookup(change.agentId);
    const live = r !== undefined && !this.expired(r);
    if (!live && change.whole === undefined) return undefined;
    r ??= this.record(change.agentId);
    const parts = live ? change.mask : FULL;
    const given: Partial<RecordContent> = change.whole ?? change;
    if (parts & Part.H) {
      const hb = given.heartbeat;
      const old = r.heartbeat;
      if (hb === undefined) {
        if (old) this.release(r.tagsKey);
        r.heartbeat = undefined;
        r.tagsKey = "[]";
      } else {
        r.heartbeat = { ...hb, tags: this.retag(r, old, hb.tags), attributes: this.attributesOf(old, hb.attributes), runningStatus: this.intern(hb.runningStatus) };
      }
    }
    if (parts & Part.P) r.pipelines = this.reportsOf(r.pipelines, given.pipelines ?? NONE);
    if (parts & Part.I) r.instances = this.reportsOf(r.instances, given.instances ?? NONE);
    if (parts & Part.S) r.statistics = given.statistics;
    if (parts & Part.L) r.alarms = [...(given.alarms ?? [])];
    if (change.addedAlarms !== undefined) {
      r.alarms.push(...change.addedAlarms);
      if (r.alarms.length > this.maxAlarms) r.alarms.splice(0, r.alarms.length - this.maxAlarms);
    }
    const newer = change.lastSeenMs >= r.lastSeenMs;
    if (newer && change.sequenceNum !== undefined && r.heartbeat !== undefined && r.sequenceNum !== change.sequenceNum) r.sequenceNum = change.sequenceNum;
    r.lastSeenMs = Math.max(r.lastSeenMs, change.lastSeenMs);
    r.latestHeartbeatTime = Math.max(r.latestHeartbeatTime, change.latestHeartbeatTime);
    r.reportedMs = Math.max(r.reportedMs, change.reportedMs);
    return { record: r, parts, created: !live };
  }

  private reportsOf(old: readonly ConfigReport[], reports: readonly ConfigReport[]): readonly ConfigReport[] {
    return old === reports || sameReports(old, reports) ? old : reports.length === 0 ? NONE : this.internReports(reports);
  }

  /** Every live record, with or without a heartbeat (what another process needs to hold the same). */
  eachKnown(visit: (record: AgentRecord) => void): void {
    for (const r of this.agents.values()) if (!this.expired(r)) visit(r);
  }

  reportConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    const r = this.record(agentId);
    const now = this.now();
    const old = kind === "pipeline" ? r.pipelines : r.instances;
    // Agents repeat the same report every few seconds: keep the old array when nothing changed;
    // and most agents of a fleet report the same list: a changed one is shared with theirs.
    const next = this.reportsOf(old, reports);
    if (kind === "pipeline") r.pipelines = next;
    else r.instances = next;
    r.reportedMs = now;
    r.lastSeenMs = now;
    this.onChange?.(r, next === old ? 0 : kind === "pipeline" ? Part.P : Part.I, false);
  }

  repeated(agentId: string, parts: number, sequenceNum?: number): void {
    const r = this.lookup(agentId);
    if (r === undefined) return;
    const now = this.now();
    if (parts & REPEATED.HEARTBEAT) {
      if (r.sequenceNum !== sequenceNum) r.sequenceNum = sequenceNum;
      const seconds = Math.floor(now / 1000);
      if (r.latestHeartbeatTime !== seconds) r.latestHeartbeatTime = seconds;
    }
    if (parts & REPEATED.REPORTS) r.reportedMs = now;
    r.lastSeenMs = now;
    this.onChange?.(r, 0, false);
  }

  updateConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    if (reports.length === 0) return;
    const r = this.record(agentId);
    const old = kind === "pipeline" ? r.pipelines : r.instances;
    const merged = new Map(old.map((c) => [c.name, c]));
    for (const c of reports) merged.set(c.name, c);
    this.reportConfigs(agentId, kind, [...merged.values()].sort(byName));
  }

  private internReports(reports: readonly ConfigReport[]): readonly ConfigReport[] {
    let key = "";
    for (const c of reports) key += `${c.name}\u0000${c.version}\u0000${c.status}\u0000${c.message}\u0001`;
    const known = this.reportSets.get(key);
    if (known !== undefined) return known;
    // Bounded by entries and bytes: report lists come from agents (messages are theirs to choose).
    if (this.reportSets.size >= MAX_REPORT_SETS || this.reportKeyBytes + key.length > MAX_REPORT_KEY_BYTES) {
      this.reportSets.clear();
      this.reportKeyBytes = 0;
    }
    const frozen = Object.freeze(reports.map((c) => Object.freeze({ ...c })));
    this.reportSets.set(key, frozen);
    this.reportKeyBytes += key.length;
    return frozen;
  }

  private release(key: string): void {
    const set = this.tagSets.get(key);
    if (set !== undefined && --set.refs <= 0) this.tagSets.delete(key);
  }

  private intern(s: string): string {
    // Only short strings: agents choose these, and a thousand 4 MiB ones must not be kept for good.
    if (s.length > MAX_INTERNED_LENGTH) return s;
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size < MAX_INTERNED) this.strings.set(s, s);
    return s;
  }

  statistics(agentId: string, stats: Statistics): void {
    const r = this.record(agentId);
    r.statistics = stats;
    r.lastSeenMs = this.now();
    this.onChange?.(r, Part.S, false);
  }

  alarm(agentId: string, type: string, detail: string): void {
    const r = this.record(agentId);
    const now = this.now();
    r.alarms.push({ type, detail, time: Math.floor(now / 1000) });
    if (r.alarms.length > this.maxAlarms) r.alarms.splice(0, r.alarms.length - this.maxAlarms);
    r.lastSeenMs = now;
    this.onChange?.(r, Part.L, false);
  }

  get(agentId: string): AgentRecord | undefined {
    const r = this.lookup(agentId);
    if (!r?.heartbeat || this.expired(r)) return undefined;
    return r;
  }

  /** list(), answered at once from this process's memory. */
  listLocal(): AgentRecord[] {
    const cutoff = this.ttlMs > 0 ? this.now() - this.ttlMs : -Infinity;
    const out: AgentRecord[] = [];
    for (const r of this.sorted()) if (r.heartbeat !== undefined && r.lastSeenMs >= cutoff && r.dropped === undefined) out.push(r);
    return out;
  }

  /** Every record in agent-id order (dropped ones may still be in it, marked `dropped`). */
  private sorted(): readonly Entry[] {
    return this.order.sorted(this.agents.size);
  }

  eachLocal(visit: (record: AgentRecord) => void): void {
    const cutoff = this.ttlMs > 0 ? this.now() - this.ttlMs : -Infinity;
    for (const r of this.agents.values()) if (r.heartbeat && r.lastSeenMs >= cutoff) visit(r);
  }

  findLocal(agentId: string): AgentRecord | undefined {
    const r = this.agents.get(agentId);
    return r && !this.expired(r) ? r : undefined;
  }

  countLocal(): number {
    let n = 0;
    for (const r of this.agents.values()) if (r.heartbeat && !this.expired(r)) n++;
    return n;
  }

  sweep(): number {
    this.last = undefined;
    let dropped = 0;
    for (const [id, r] of this.agents) {
      if (this.expired(r)) {
        this.agents.delete(id);
        r.dropped = true;
        if (r.heartbeat) this.release(r.tagsKey);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.agents.size;
  }

  // The listing side: this process is the whole fleet.
  list(): Promise<AgentRecord[]> {
    return Promise.resolve(this.listLocal());
  }

  each(visit: (record: AgentRecord) => void): Promise<void> {
    this.eachLocal(visit);
    return Promise.resolve();
  }

  find(agentId: string): Promise<AgentRecord | undefined> {
    return Promise.resolve(this.findLocal(agentId));
  }

  liveCount(): Promise<number> {
    return Promise.resolve(this.countLocal());
  }

  status(): FleetViewStatus {
    return MEMORY_STATUS;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private expired(r: AgentRecord): boolean {
    return this.ttlMs > 0 && this.now() - r.lastSeenMs > this.ttlMs;
  }
}

const MEMORY_STATUS: FleetViewStatus = Object.freeze({ backend: "memory", shared: false, degraded: false, pendingWrites: 0, droppedWrites: 0 });


function freezeTags(tags: AgentTags): AgentTags {
  const named = Object.freeze({ ...tags.named });
  return Object.freeze(tags.values === undefined ? { named } : { named, values: Object.freeze([...tags.values]) });
}

function sameStrings(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function sameReports(a: readonly ConfigReport[], b: readonly ConfigReport[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ConfigReport;
    const y = b[i] as ConfigReport;
    if (x !== y && (x.name !== y.name || x.version !== y.version || x.status !== y.status || x.message !== y.message)) return false;
  }
  return true;
}
