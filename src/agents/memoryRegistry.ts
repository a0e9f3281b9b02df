import type { AgentRecord, AgentTags, ConfigKind, ConfigReport, Heartbeat, Statistics } from "../domain/agent.ts";
import { sameTags, tagsKey } from "../domain/matching.ts";
import type { AgentRegistry, FleetViewStatus } from "../domain/registry.ts";
import { Part } from "./agentCodec.ts";
import { IdOrder } from "./idOrder.ts";

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

  private record(agentId: string): Entry {
    let r = this.agents.get(agentId);
    if (!r) {
      r = { agentId, heartbeat: undefined, tagsKey: "[]", latestHeartbeatTime: 0, lastSeenMs: 0, statistics: undefined, alarms: [], pipelines: NONE, instances: NONE, reportedMs: 0 };
      this.agents.set(agentId, r);
      this.order.add(r);
    }
    return r;
  }

  heartbeat(hb: Heartbeat): Heartbeat | undefined {
    const r = this.record(hb.agentId);
    const now = this.now();
    const old = r.heartbeat;
    // Heartbeats are immutable (each one replaces the last), so the previous one is returned as is.
    const previous = old && !this.expired(r) ? old : undefined;
    // Most heartbeats repeat the same tags: keep the old (shared) set rather than rebuild its key.
    let tags: AgentTags;
    if (old && sameTags(old.tags, hb.tags)) tags = old.tags;
    else {
      if (old) this.release(r.tagsKey);
      const key = tagsKey(hb.tags);
      let set = this.tagSets.get(key);
      if (set === undefined) this.tagSets.set(key, (set = { key, tags: freezeTags(hb.tags), refs: 0 }));
      set.refs++;
      r.tagsKey = set.key;
      tags = set.tags;
    }
    const a = hb.attributes;
    const oa = old?.attributes;
    // A fleet repeats its attributes: the previous object is kept while nothing changed.
    const attributes = oa && oa.agentType === a.agentType && oa.version === a.version && oa.ip === a.ip && oa.hostname === a.hostname && sameStrings(oa.extras, a.extras)
      ? oa
      : { agentType: this.intern(a.agentType), version: this.intern(a.version), ip: a.ip, hostname: a.hostname, extras: a.extras };
    r.heartbeat = {
      agentId: r.agentId,
      protocol: hb.protocol,
      attributes,
      tags,
      runningStatus: this.intern(hb.runningStatus),
      startupTime: hb.startupTime,
      intervalSeconds: hb.intervalSeconds,
      sequenceNum: hb.sequenceNum,
      capabilities: hb.capabilities,
    };
    r.latestHeartbeatTime = Math.floor(now / 1000);
    r.lastSeenMs = now;
    if (this.onChange !== undefined) {
      // The sequence number is not part of what changed: it is the protocol's business with this process.
      const same = previous !== undefined && tags === previous.tags && attributes === previous.attributes && r.heartbeat.runningStatus === previous.runningStatus
        && hb.startupTime === previous.startupTime && hb.protocol === previous.protocol && hb.intervalSeconds === previous.intervalSeconds && hb.capabilities === previous.capabilities;
      this.onChange(r, same ? 0 : Part.H, previous === undefined);
    }
    return previous;
  }

  reportConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    const r = this.record(agentId);
    const now = this.now();
    const old = kind === "pipeline" ? r.pipelines : r.instances;
    // Agents repeat the same report every few seconds: keep the old array when nothing changed;
    // and most agents of a fleet report the same list: a changed one is shared with theirs.
    const next = old === reports || sameReports(old, reports) ? old : reports.length === 0 ? NONE : this.internReports(reports);
    if (kind === "pipeline") r.pipelines = next;
    else r.instances = next;
    r.reportedMs = now;
    r.lastSeenMs = now;
    this.onChange?.(r, next === old ? 0 : kind === "pipeline" ? Part.P : Part.I, false);
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
    const r = this.agents.get(agentId);
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

const byName = (a: ConfigReport, b: ConfigReport) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

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
