import type { Redis } from "ioredis";
import type { AgentRecord } from "../domain/agent.ts";
import { encodeParts, encodeTimes, FULL, PART_FIELDS, type RecordParts } from "./agentCodec.ts";

/** A pending flag beside the parts: a rewrite of the local cache, not made over newer data (redisScripts.ts). */
export const REFILL = 32;
/** A pending flag: this replica has just seen the agent for the first time (redisScripts.ts). */
export const FIRST = 64;
const LINE_BREAK = /\n/;
/** Agents per script call: one sequence number each, so at most this many log entries share a score. */
export const BATCH = 1000;
/** Agents written per timer tick (several script calls in one pipeline). */
const PER_FLUSH = 20 * BATCH;

type FlushCommand = (...args: (string | number)[]) => Promise<[number, string[]]>;
type Pipe = ReturnType<Redis["pipeline"]> & { csFlush: FlushCommand };

export interface WriteBehindOptions {
  /** With the csFlush command defined (FLUSH_LUA). */
  readonly redis: Redis;
  readonly prefix: string;
  readonly ttlMs: number;
  /** This replica's epoch mark, set in Redis when none is (redisScripts.ts). */
  readonly epoch: string;
  /** Distinct agents with unwritten changes kept; past it, changes are dropped (counted) and every agent is written again later. */
  readonly maxPending: number;
  /** The oldest lastSeenMs still live. */
  readonly cutoff: () => number;
  /** This replica's own records, for writing every agent again and for the ones Redis lacks. */
  readonly local: { eachLocal(visit: (r: AgentRecord) => void): void; findLocal(agentId: string): AgentRecord | undefined };
  /** Redis is not connected: nothing was tried (the connection logs that itself). */
  readonly onUnreachable: () => void;
  /** A write failed (the pending changes are kept, up to the bound). */
  readonly onFailure: (message: string) => void;
  /** A write succeeded. */
  readonly onSuccess: () => void;
}

/**
 * Writing a replica's agents to Redis behind the agent path: each change only marks its record
 * pending with the parts that changed; flushAll() writes the pending agents in batches, one Lua
 * script call per 1,000 agents. While Redis is slow or down the pending changes are kept up to a
 * bound (then dropped and counted); when changes were dropped or Redis came back, every local
 * agent is written again.
 */
export class RedisWriteBehind {
  /** Local record → parts changed since its last write (0 = only its times), with REFILL and FIRST. */
  private pending = new Map<AgentRecord, number>();
  private droppedCount = 0;
  /** Set when changes were dropped or Redis came back: every local agent is written again. */
  private refill = false;
  private stopped = false;

  constructor(private readonly o: WriteBehindOptions) {}

  get size(): number {
    return this.pending.size;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  get full(): boolean {
    return this.pending.size >= this.o.maxPending;
  }

  /** Every local agent is written again at the next flush (Redis may have lost them). */
  writeAllAgain(): void {
    this.refill = true;
  }

  /** No more writes after the one running. */
  stop(): void {
    this.stopped = true;
  }

  mark(record: AgentRecord, parts: number): void {
    const had = this.pending.get(record);
    if (had === undefined) {
      if (this.pending.size >= this.o.maxPending) {
        this.droppedCount++;
        this.refill = true;
        return;
      }
      this.pending.set(record, parts);
    } else {
      // A change made now supersedes a refill: this replica's record of the agent is current.
      const next = (had & ~REFILL) | parts;
      // (FIRST stays: the parts marked since are sent whole anyway.)
      if (next !== had) this.pending.set(record, next);
    }
  }

  /** Writes pending agents until none are left (or Redis fails). */
  async flushAll(): Promise<void> {
    for (let round = 0; round < 100 && !this.stopped; round++) {
      if (this.refill && this.pending.size < this.o.maxPending / 2 && this.o.redis.status === "ready") {
        this.refill = false;
        this.o.local.eachLocal((r) => {
          if (!this.pending.has(r)) this.pending.set(r, FULL | REFILL);
        });
      }
      if (this.pending.size === 0) return;
      if (this.o.redis.status !== "ready") {
        this.o.onUnreachable();
        return;
      }
      await this.flushOnce();
    }
  }

  private async flushOnce(): Promise<void> {
    const taken: [AgentRecord, number][] = [];
    for (const entry of this.pending) {
      taken.push(entry);
      if (taken.length >= PER_FLUSH) break;
    }
    for (const [r] of taken) this.pending.delete(r);
    const pipe = this.o.redis.pipeline() as Pipe;
    let args: (string | number)[] = [];
    let timesOnly = "";
    let inBatch = 0;
    const send = () => {
      args[3] = timesOnly;
      pipe.csFlush(...args);
      inBatch = 0;
      timesOnly = "";
    };
    const cutoff = this.o.cutoff();
    for (const [r, parts] of taken) {
      if (r.lastSeenMs < cutoff) continue; // expired here meanwhile: its record expires in Redis too
      const id = r.agentId;
      if (inBatch === 0) args = [this.o.prefix, this.o.ttlMs, this.o.epoch, ""];
      // Most writes are a heartbeat's new times: one line each in a single argument.
      if (parts === 0 && !LINE_BREAK.test(id) && id !== "") timesOnly += `${encodeTimes(r)}${id}\n`;
      else {
        // A first sight sends every part (for a missing record) but asks to write only those changed.
        const sent = parts & FIRST ? FULL : parts & FULL;
        args.push(id, encodeTimes(r));
        const fields = encodeParts(r, sent);
        const start = args.length;
        args.push(0, parts & FULL);
        let n = 0;
        for (const [bit, field, position] of PART_FIELDS) {
          if (sent & bit) {
            args.push(position, fields[field as keyof RecordParts] as string);
            n++;
          }
        }
        args[start] = (parts & REFILL) !== 0 ? -n : n;
      }
      if (++inBatch === BATCH) send();
    }
    if (inBatch > 0) send();
    if (pipe.length === 0) return;
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipe.exec();
    } catch (e) {
      results = [[e as Error, undefined]];
    }
    const error = results?.find(([err]) => err !== null)?.[0];
    if (error) {
      // Put back what was taken (newer changes merge in); past the bound it is dropped and counted.
      for (const [r, parts] of taken) this.mark(r, parts);
      this.o.onFailure(`writing agents to Redis failed: ${error.message}`);
      return;
    }
    this.o.onSuccess();
    // Records Redis lacked (expired there, or lost): sent again whole.
    for (const [, result] of results ?? []) {
      for (const id of (result as [number, string[]])[1]) {
        const r = this.o.local.findLocal(id);
        if (r !== undefined) this.mark(r, FULL);
      }
    }
  }
}
