import type { AgentRecord } from "../domain/agent.ts";
import type { AgentRegistry, FleetViewStatus } from "../domain/registry.ts";
import type { Absorbed, AbsorbedChange } from "./absorbedChange.ts";
import { absorbBatch, wholeBatch, type ChangeBatch } from "./replication.ts";
import { AgentPathOf } from "./agentPathOf.ts";

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
export class WorkerFleet extends AgentPathOf implements AgentRegistry {
  readonly ttlMs: number;

  constructor(
    protected readonly local: Absorbing,
    /** Resolves once every live worker has sent its pending changes (bounded by the caller). */
    private readonly workersFlushed: () => Promise<void>,
  ) {
    super();
    this.ttlMs = local.ttlMs;
  }

  /** Takes a worker's batch; returns the agents it names that this view lacks (the worker sends them whole). */
  absorbBatch(batch: ChangeBatch): string[] {
    return absorbBatch(batch, (change) => this.local.absorb(change));
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
    if (ids === undefined) this.local.eachKnown(add);
    else for (const id of ids) {
      const r = this.local.findLocal(id);
      if (r !== undefined) add(r);
    }
    if (chunk.length > 0) visit(wholeBatch(chunk));
  }

  // ---- the agent path (AgentPathOf): the primary answers no agents (the workers do); kept for the port ----

  sweep(): number {
    return this.local.sweep();
  }

  // ---- the listing side: after every worker's pending changes ----

  async find(agentId: string): Promise<AgentRecord | undefined> {
    await this.workersFlushed();
    return this.local.find(agentId);
  }

  async list(): Promise<AgentRecord[]> {
    await this.workersFlushed();
    return this.local.list();
  }

  async each(visit: (record: AgentRecord) => void): Promise<void> {
    await this.workersFlushed();
    return this.local.each(visit);
  }

  async liveCount(): Promise<number> {
    await this.workersFlushed();
    return this.local.liveCount();
  }

  status(): FleetViewStatus {
    return this.local.status();
  }

  close(): Promise<void> {
    return this.local.close();
  }
}
