import { tagsKey } from "../domain/matching.ts";

export interface Heartbeat {
  readonly agentId: string;
  readonly agentType: string;
  readonly agentVersion: string;
  readonly ip: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly runningStatus: string;
  readonly startupTime: number;
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

export interface AgentRecord {
  readonly agentId: string;
  heartbeat: Heartbeat | undefined;
  /** Cache key of the heartbeat's tag set (see RepoState.appliedConfigs). */
  tagsKey: string;
  /** Server time of the latest heartbeat, unix seconds (the protocol's unit). */
  latestHeartbeatTime: number;
  /** Server time of the latest message of any kind, for expiry, unix milliseconds. */
  lastSeenMs: number;
  statistics: Statistics | undefined;
  alarms: Alarm[];
}

export interface RegistryOptions {
  /** How many recent alarms are kept per agent. */
  readonly maxAlarms?: number;
  /** Agents silent for this long are dropped; 0 keeps them forever. */
  readonly ttlMs?: number;
  /** Injected for tests of expiry. */
  readonly now?: () => number;
}

/** One distinct tag set, shared by every agent that reports it (a fleet has few of them). */
interface TagSet {
  readonly key: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Agents whose latest heartbeat has this set: the set is forgotten when none has. */
  refs: number;
}

/** Short strings many agents repeat (agent type, version, running status) are kept once. */
const MAX_INTERNED = 1000;

/** Agents as last heard from. Memory only: agents re-announce themselves every few seconds. */
export class AgentRegistry {
  private readonly agents = new Map<string, AgentRecord>();
  private readonly tagSets = new Map<string, TagSet>();
  private readonly strings = new Map<string, string>();
  private readonly maxAlarms: number;
  private readonly now: () => number;
  ttlMs: number;

  constructor(options: RegistryOptions = {}) {
    this.maxAlarms = options.maxAlarms ?? 100;
    this.ttlMs = options.ttlMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  private record(agentId: string): AgentRecord {
    let r = this.agents.get(agentId);
    if (!r) {
      r = { agentId, heartbeat: undefined, tagsKey: "[]", latestHeartbeatTime: 0, lastSeenMs: 0, statistics: undefined, alarms: [] };
      this.agents.set(agentId, r);
    }
    return r;
  }

  heartbeat(hb: Heartbeat): void {
    const r = this.record(hb.agentId);
    const now = this.now();
    const old = r.heartbeat;
    // Most heartbeats repeat the same tags: keep the old (shared) set rather than rebuild its key.
    let tags: Readonly<Record<string, string>>;
    if (old && sameTags(old.tags, hb.tags)) tags = old.tags;
    else {
      if (old) this.release(r.tagsKey);
      const key = tagsKey(hb.tags);
      let set = this.tagSets.get(key);
      if (set === undefined) this.tagSets.set(key, (set = { key, tags: Object.freeze({ ...hb.tags }), refs: 0 }));
      set.refs++;
      r.tagsKey = set.key;
      tags = set.tags;
    }
    r.heartbeat = {
      agentId: r.agentId,
      agentType: this.intern(hb.agentType),
      agentVersion: this.intern(hb.agentVersion),
      ip: hb.ip,
      tags,
      runningStatus: this.intern(hb.runningStatus),
      startupTime: hb.startupTime,
    };
    r.latestHeartbeatTime = Math.floor(now / 1000);
    r.lastSeenMs = now;
  }

  private release(key: string): void {
    const set = this.tagSets.get(key);
    if (set !== undefined && --set.refs <= 0) this.tagSets.delete(key);
  }

  private intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size < MAX_INTERNED) this.strings.set(s, s);
    return s;
  }

  statistics(agentId: string, stats: Statistics): void {
    const r = this.record(agentId);
    r.statistics = stats;
    r.lastSeenMs = this.now();
  }

  alarm(agentId: string, type: string, detail: string): void {
    const r = this.record(agentId);
    const now = this.now();
    r.alarms.push({ type, detail, time: Math.floor(now / 1000) });
    if (r.alarms.length > this.maxAlarms) r.alarms.splice(0, r.alarms.length - this.maxAlarms);
    r.lastSeenMs = now;
  }

  /** An agent that has sent a heartbeat and has not expired. */
  get(agentId: string): AgentRecord | undefined {
    const r = this.agents.get(agentId);
    if (!r?.heartbeat || this.expired(r)) return undefined;
    return r;
  }

  /** Live agents with a heartbeat, sorted by agent_id. */
  list(): AgentRecord[] {
    const out: AgentRecord[] = [];
    for (const r of this.agents.values()) if (r.heartbeat && !this.expired(r)) out.push(r);
    return out.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  }

  /** Any record, including agents known only from statistics or alarms. */
  find(agentId: string): AgentRecord | undefined {
    const r = this.agents.get(agentId);
    return r && !this.expired(r) ? r : undefined;
  }

  /** How many agents list() would return, without building the list. */
  liveCount(): number {
    let n = 0;
    for (const r of this.agents.values()) if (r.heartbeat && !this.expired(r)) n++;
    return n;
  }

  /** Drops expired agents; returns how many. */
  sweep(): number {
    let dropped = 0;
    for (const [id, r] of this.agents) {
      if (this.expired(r)) {
        this.agents.delete(id);
        if (r.heartbeat) this.release(r.tagsKey);
        dropped++;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.agents.size;
  }

  private expired(r: AgentRecord): boolean {
    return this.ttlMs > 0 && this.now() - r.lastSeenMs > this.ttlMs;
  }
}

function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
  return true;
}

/** running_details as ListAgents shows them (PROTOCOL.md §6): CPU with 6 decimals, Memory, then extras. */
export function runningDetails(stats: Statistics | undefined): Record<string, string> {
  if (!stats) return {};
  return { ...stats.extras, CPU: stats.cpu.toFixed(6), Memory: stats.memory };
}
