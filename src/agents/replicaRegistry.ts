import type { AgentRecord } from "../domain/agent.ts";
import type { AgentRegistry, FleetViewStatus } from "../domain/registry.ts";
import { FULL, Part } from "./agentCodec.ts";
import { MemoryRegistry, type AgentAdmission } from "./memoryRegistry.ts";
import { absorbBatch, AGENT_PATH, encodeBatch, WHOLE, type AlarmTuple, type ChangeBatch } from "./replication.ts";
import { AgentPathOf } from "./agentPathOf.ts";

export interface ReplicaOptions {
  readonly ttlMs: number;
  readonly now?: () => number;
  /** --max-agents (memoryRegistry.ts). */
  readonly admission?: AgentAdmission | undefined;
  /** Hands a batch of this process's changes to the primary (which passes it on to the other workers). */
  readonly send: (batch: ChangeBatch) => void;
  /**
   * How often what is not sent at once (times, statistics, alarms) is sent. Default 1 s: the
   * other processes need times only to expire agents and listings flush first, while every batch
   * costs the primary and the other workers a line per agent (at 100 ms, a tenth of a core at
   * 60,000 heartbeats/s).
   */
  readonly flushMs?: number;
}

/**
 * A worker's registry (--workers): a MemoryRegistry holding every agent of the server, those
 * heard here and those other workers heard (absorbed from the batches the primary passes on), so
 * an agent's next request is answered the same whatever worker it reaches.
 *
 * What another worker's agent path reads (a new agent, its heartbeat's content, its reports) is
 * sent before the agent's answer is written (in a microtask, or at the latest by sendAgentPath): the primary reads it, passes it on to
 * the other workers and only then hands them connections that arrive after it (one ordered channel
 * per worker), so an agent's next request on a new connection finds it wherever it lands. The
 * rest (times, statistics, each alarm on its own) is sent every `flushMs`, and before a listing.
 */
export class ReplicaRegistry extends AgentPathOf implements AgentRegistry {
  readonly ttlMs: number;
  protected readonly local: MemoryRegistry;
  private pending = new Map<AgentRecord, number>();
  private alarms: AlarmTuple[] = [];
  private soon = false;
  private readonly send: (batch: ChangeBatch) => void;
  private readonly timer: NodeJS.Timeout;

  constructor(options: ReplicaOptions) {
    super();
    this.ttlMs = options.ttlMs;
    this.send = options.send;
    this.local = new MemoryRegistry({ ttlMs: options.ttlMs, ...(options.now ? { now: options.now } : {}), admission: options.admission, onChange: (r, parts, first) => this.mark(r, first ? parts | WHOLE : parts) });
    this.timer = setInterval(() => this.flush(), options.flushMs ?? 1000);
    this.timer.unref();
  }

  private mark(record: AgentRecord, flags: number): void {
    // An alarm goes alone (the other processes append it), not as the whole list of up to 100.
    if (flags & Part.L && !(flags & WHOLE)) {
      const a = record.alarms[record.alarms.length - 1];
      if (a !== undefined) this.alarms.push([record.agentId, a.type, a.detail, a.time]);
      flags &= ~Part.L;
    }
    const had = this.pending.get(record);
    const next = (had ?? 0) | flags;
    if (had === undefined || next !== had) this.pending.set(record, next);
    // What the agent path of another worker reads (first sight, heartbeat, reports) goes now.
    if (flags & AGENT_PATH && !this.soon) {
      this.soon = true;
      queueMicrotask(this.flushSoon);
    }
  }

  private readonly flushSoon = () => {
    this.soon = false;
    this.flush();
  };

  /**
   * Sends now what the agent path of another worker reads, if anything is waiting for the
   * microtask: called before an agent's answer is written (agentListener's beforeAnswer), since
   * a synchronous handler's answer would otherwise leave before its changes.
   */
  sendAgentPath(): void {
    if (this.soon) this.flushSoon();
  }

  /** Sends what is pending (a listing on the primary asks for this first). */
  flush(): void {
    if (this.pending.size === 0 && this.alarms.length === 0) return;
    const changed = this.pending;
    const alarms = this.alarms;
    this.pending = new Map();
    this.alarms = [];
    this.send(encodeBatch(changed, alarms));
  }

  /**
   * Takes a batch another process sent. Returns the agents it changed but this process has no
   * live record of: the primary sends them whole.
   */
  absorb(batch: ChangeBatch): string[] {
    return absorbBatch(batch, (change) => this.local.absorb(change));
  }

  /** The primary lacks these agents: they go again, whole. */
  resend(ids: readonly string[]): void {
    for (const id of ids) {
      const r = this.local.findLocal(id);
      if (r !== undefined) this.mark(r, FULL | WHOLE);
    }
  }

  // ---- the agent path (AgentPathOf): memory only ----

  sweep(): number {
    return this.local.sweep();
  }

  // ---- the listing side: this replica of the server's fleet (the primary answers listings, after asking every worker to flush) ----

  find(agentId: string): Promise<AgentRecord | undefined> {
    return this.local.find(agentId);
  }

  list(): Promise<AgentRecord[]> {
    return this.local.list();
  }

  each(visit: (record: AgentRecord) => void): Promise<void> {
    return this.local.each(visit);
  }

  liveCount(): Promise<number> {
    return this.local.liveCount();
  }

  status(): FleetViewStatus {
    return { ...this.local.status(), pendingWrites: this.pending.size };
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    return Promise.resolve();
  }
}
