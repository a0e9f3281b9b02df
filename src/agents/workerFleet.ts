import type { AgentRecord, ConfigKind, ConfigReport, Heartbeat, Statistics } from "../domain/agent.ts";
import type { AgentRegistry, FleetViewStatus } from "../domain/registry.ts";
import type { Absorbed, AbsorbedChange } from "./memoryRegistry.ts";
import { absorbBatch, wholeBatch, type ChangeBatch } from "./replication.ts";

/** A registry that takes changes other processes heard (MemoryRegistry, RedisRegistry). */
export interface Absorbing extends AgentRegistry {
  absorb(change: AbsorbedChange): Absorbed | undefined;
  /** Every live record this process holds, with or without a heartbeat. */
  eachKnown(visit: (record: AgentRecord) => void): void;
  /** A live record this process holds (no shared store is read). */
  findLocal(agentId: string): AgentRecord | undefined;
}

/**
 * The primary's fleet view with --workers: the workers' changes absorbed into one registry (in
 * memory, or the Redis registry, which writes them behind for the other replicas). Listings first
 * ask every worker to send what it has not sent yet, so they include every heartbeat answered
 * before the listing began, whatever worker answered it: the guarantee of one process.
 */
export class WorkerFleet implements AgentRegistry {
  readonly ttlMs: number;

  constructor(
    private readonly inner: Absorbing,
    /** Resolves once every live worker has sent its pending changes (bounded by the caller). */
    private readonly workersFlushed: () => Promise<void>,
  ) {
    this.ttlMs = inner.ttlMs;
  }

  /** Takes a worker's batch; returns the agents it names that this view lacks (the worker sends them whole). */
  absorbBatch(batch: ChangeBatch): string[] {
    return absorbBatch(batch, (change) => this.inner.absorb(change));
  }

  /** The named agents (every agent when `ids` is absent) whole, in batches of `size`, for a worker that lacks them. */
  wholeBatches(size: number, visit: (batch: ChangeBatch) => void, ids?: readonly string[]): void {
    let chunk: AgentRecord[] = [];
    const add = (r: AgentRecord) => {
      chunk.push(r);
      if (chunk.length >= size) {
        visit(wholeBatch(chunk));
        chunk = [];
      }
    };
    if (ids === undefined) this.inner.eachKnown(add);
    else for (const id of ids) {
      const r = this.inner.findLocal(id);
      if (r !== undefined) add(r);
    }
    if (chunk.length > 0) visit(wholeBatch(chunk));
  }

  // ---- the agent path: the primary answers no agents (the workers do); kept for the port ----

  heartbeat(beat: Heartbeat): Heartbeat | undefined {
    return this.inner.heartbeat(beat);
  }

  reportConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    this.inner.reportConfigs(agentId, kind, reports);
  }

  repeated(agentId: string, parts: number, sequenceNum?: number): void {
    this.inner.repeated(agentId, parts, sequenceNum);
  }

  updateConfigs(agentId: string, kind: ConfigKind, reports: readonly ConfigReport[]): void {
    this.inner.updateConfigs(agentId, kind, reports);
  }

  statistics(agentId: string, stats: Statistics): void {
    this.inner.statistics(agentId, stats);
  }

  alarm(agentId: string, type: string, detail: string): void {
    this.inner.alarm(agentId, type, detail);
  }

  get(agentId: string): AgentRecord | undefined {
    return this.inner.get(agentId);
  }

  get size(): number {
    return this.inner.size;
  }

  sweep(): number {
    return this.inner.sweep();
  }

  // ---- the listing side: after every worker's pending changes ----

  async find(agentId: string): Promise<AgentRecord | undefined> {
    await this.workersFlushed();
    return this.inner.find(agentId);
  }

  async list(): Promise<AgentRecord[]> {
    await this.workersFlushed();
    return this.inner.list();
  }

  async each(visit: (record: AgentRecord) => void): Promise<void> {
    await this.workersFlushed();
    return this.inner.each(visit);
  }

  async liveCount(): Promise<number> {
    await this.workersFlushed();
    return this.inner.liveCount();
  }

  status(): FleetViewStatus {
    return this.inner.status();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
