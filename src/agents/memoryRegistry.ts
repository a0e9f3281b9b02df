import type { AgentRecord, ConfigKind, ConfigReport, Heartbeat, Statistics } from "../domain/agent.ts";
import { REPEATED, type AgentRegistry, type FleetViewStatus } from "../domain/registry.ts";
import { absorbChange, type Absorbed, type AbsorbedChange } from "./absorbedChange.ts";
import { Part } from "./agentCodec.ts";
import { AgentTable } from "./agentTable.ts";
import { Interner } from "./interning.ts";
import { byName } from "../domain/names.ts";
import { DomainError } from "../domain/errors.ts";

/** `--max-agents`: how many agents a registry remembers at once, and who is told of a refusal. */
export interface AgentAdmission {
  readonly maxAgents: number;
  /** Told of each new agent refused (for a metric and a log line). */
  readonly onRefused?: ((agentId: string, maxAgents: number) => void) | undefined;
}

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
  /** A new agent beyond `maxAgents` is refused ServerBusy; agents already known keep working. */
  readonly admission?: AgentAdmission | undefined;
}

/**
 * Agents as last heard from. Memory only: agents re-announce themselves every few seconds.
 *
 * This class is the agent path (what each call of an agent request records); the records live in
 * an AgentTable (lookup, expiry, sweep, listing), the values a fleet repeats are shared by an
 * Interner, and changes heard by other processes of this server are written by absorbChange.
 */
export class MemoryRegistry implements AgentRegistry {
  private readonly table: AgentTable;
  private readonly interner = new Interner();
  private readonly maxAlarms: number;
  private readonly now: () => number;
  private readonly onChange: RegistryOptions["onChange"];
  private readonly maxAgents: number;
  private readonly onRefused: AgentAdmission["onRefused"];
  readonly ttlMs: number;

  constructor(options: RegistryOptions = {}) {
    this.maxAlarms = options.maxAlarms ?? 100;
    this.ttlMs = options.ttlMs ?? 0;
    this.now = options.now ?? Date.now;
    this.onChange = options.onChange;
    this.maxAgents = options.admission?.maxAgents ?? Infinity;
    this.onRefused = options.admission?.onRefused;
    this.table = new AgentTable(this.ttlMs, this.now);
  }

  /**
   * The agent's entry, created on first sight unless the table is full (--max-agents): then the
   * request is refused ServerBusy. Entries of expired agents count until the sweep drops them.
   */
  private entry(agentId: string): ReturnType<AgentTable["entry"]> {
    const r = this.table.lookup(agentId);
    if (r !== undefined) return r;
    if (this.table.size >= this.maxAgents) {
      this.onRefused?.(agentId, this.maxAgents);
      throw new DomainError("ServerBusy", `This server already knows ${this.maxAgents} agents, its limit (--max-agents): a new agent is refused until others expire or the limit is raised.`);
    }
    return this.table.entry(agentId);
  }

  heartbeat(hb: Heartbeat): Heartbeat | undefined {
    const r = this.entry(hb.agentId);
    const now = this.now();
    const old = r.heartbeat;
    // Heartbeats are immutable (one replaces the last when it differs), so the previous one is
    // returned as is. Its sequence number is the record's, read before this call.
    const previous = old && !this.table.expired(r) ? old : undefined;
    const tags = this.interner.tags(r, old?.tags, hb.tags);
    const attributes = this.interner.attributes(old?.attributes, hb.attributes);
    const runningStatus = old !== undefined && old.runningStatus === hb.runningStatus ? old.runningStatus : this.interner.string(hb.runningStatus);
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

  /**
   * Takes a change another process of this server heard (src/agents/replication.ts): no onChange,
   * since it is not news from an agent here. A missing (or expired) record needs the sender's
   * whole record, else nothing is written and undefined is returned (the caller asks for it whole).
   */
  absorb(change: AbsorbedChange): Absorbed | undefined {
    const known = this.table.lookup(change.agentId);
    const live = known !== undefined && !this.table.expired(known);
    if (!live && change.whole === undefined) return undefined;
    const r = known ?? this.table.entry(change.agentId);
    const parts = absorbChange(r, change, live, this.interner, this.maxAlarms);
    return { record: r, parts, created: !live };
  }

  reportConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    const r = this.entry(agentId);
    const now = this.now();
    const old = kind === "pipeline" ? r.pipelines : r.instances;
    // Agents repeat the same report every few seconds: keep the old array when nothing changed;
    // and most agents of a fleet report the same list: a changed one is shared with theirs.
    const next = this.interner.reports(old, reports);
    if (kind === "pipeline") r.pipelines = next;
    else r.instances = next;
    r.reportedMs = now;
    r.lastSeenMs = now;
    this.onChange?.(r, next === old ? 0 : kind === "pipeline" ? Part.P : Part.I, false);
  }

  repeated(agentId: string, parts: number, sequenceNum?: number): void {
    const r = this.table.lookup(agentId);
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
    const r = this.entry(agentId);
    const old = kind === "pipeline" ? r.pipelines : r.instances;
    const merged = new Map(old.map((c) => [c.name, c]));
    for (const c of reports) merged.set(c.name, c);
    this.reportConfigs(agentId, kind, [...merged.values()].sort(byName));
  }

  statistics(agentId: string, stats: Statistics): void {
    const r = this.entry(agentId);
    r.statistics = stats;
    r.lastSeenMs = this.now();
    this.onChange?.(r, Part.S, false);
  }

  alarm(agentId: string, type: string, detail: string): void {
    const r = this.entry(agentId);
    const now = this.now();
    r.alarms.push({ type, detail, time: Math.floor(now / 1000) });
    if (r.alarms.length > this.maxAlarms) r.alarms.splice(0, r.alarms.length - this.maxAlarms);
    r.lastSeenMs = now;
    this.onChange?.(r, Part.L, false);
  }

  get(agentId: string): AgentRecord | undefined {
    const r = this.table.lookup(agentId);
    if (!r?.heartbeat || this.table.expired(r)) return undefined;
    return r;
  }

  // ---- what this process holds (the listing side of one process, and what a shared registry reads of it) ----

  /** list(), answered at once from this process's memory. */
  listLocal(): AgentRecord[] {
    return this.table.list();
  }

  eachLocal(visit: (record: AgentRecord) => void): void {
    this.table.each(visit);
  }

  /** Every live record, with or without a heartbeat (what another process needs to hold the same). */
  eachKnown(visit: (record: AgentRecord) => void): void {
    this.table.eachKnown(visit);
  }

  findLocal(agentId: string): AgentRecord | undefined {
    return this.table.find(agentId);
  }

  countLocal(): number {
    return this.table.count();
  }

  sweep(): number {
    return this.table.sweep((r) => {
      if (r.heartbeat) this.interner.release(r.tagsKey);
    });
  }

  get size(): number {
    return this.table.size;
  }

  // The listing side: this process is the whole fleet.
  list(): Promise<AgentRecord[]> {
    return Promise.resolve(this.table.list());
  }

  each(visit: (record: AgentRecord) => void): Promise<void> {
    this.table.each(visit);
    return Promise.resolve();
  }

  find(agentId: string): Promise<AgentRecord | undefined> {
    return Promise.resolve(this.table.find(agentId));
  }

  liveCount(): Promise<number> {
    return Promise.resolve(this.table.count());
  }

  status(): FleetViewStatus {
    return MEMORY_STATUS;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const MEMORY_STATUS: FleetViewStatus = Object.freeze({ backend: "memory", shared: false, degraded: false, pendingWrites: 0, droppedWrites: 0 });

