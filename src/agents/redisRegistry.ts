import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AgentRecord } from "../domain/agent.ts";
import type { AgentRegistry, FleetViewStatus } from "../domain/registry.ts";
import { redisClient } from "../redis/connect.ts";
import { decodeStored, encodeParts, encodeTimes, FULL, Part, PART_FIELDS, revOf, type RecordParts } from "./agentCodec.ts";
import { FleetMirror } from "./fleetMirror.ts";
import { MemoryRegistry, type Absorbed, type AbsorbedChange } from "./memoryRegistry.ts";
import { FLUSH_LUA, HEADS_LUA, SWEEP_LUA } from "./redisScripts.ts";
import { AgentPathOf } from "./agentPathOf.ts";

export interface RedisRegistryOptions {
  /** redis://[user:password@]host:port/db */
  readonly url: string;
  readonly ttlMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How often pending agent changes are written. Default 100 ms. */
  readonly flushMs?: number;
  /** Distinct agents with unwritten changes held while Redis is slow or down; past it, changes are dropped (counted). */
  readonly maxPending?: number;
  /** Key prefix; default "cs:". */
  readonly prefix?: string;
}

/** A pending flag beside the parts: a rewrite of the local cache, not made over newer data (redisScripts.ts). */
const REFILL = 32;
/** A pending flag: this replica has just seen the agent for the first time (redisScripts.ts). */
const FIRST = 64;
const LINE_BREAK = /\n/;
/** Agents per script call: one sequence number each, so at most this many log entries share a score. */
const BATCH = 1000;
/** Agents written per timer tick (several script calls in one pipeline). */
const PER_FLUSH = 20 * BATCH;
/** Log entries read per round trip while catching up; more than BATCH (see catchUp). */
const CHUNK = 10 * BATCH;

type FlushCommand = (...args: (string | number)[]) => Promise<[number, string[]]>;
type Pipe = ReturnType<Redis["pipeline"]> & { csFlush: FlushCommand };

/** `fn`, at most one run at a time; a call during a run gets one more run after it (shared by every caller meanwhile). */
function coalesced<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    if (running === undefined) return (running = fn().finally(() => (running = undefined)));
    return (next ??= running.then(() => undefined, () => undefined).then(() => {
      next = undefined;
      return start();
    }));
  };
  return start;
}

/**
 * The shared registry: every replica writes its agents to one Redis and lists the whole fleet
 * from it (docs/deployment.md).
 *
 * The agent path is MemoryRegistry's, untouched: this replica's agents live in a local cache
 * and each change only marks the agent (and which parts of its record changed) as pending. A
 * timer writes the pending agents behind, in batches, one Lua script call per 1,000 agents.
 * Listings first write what is pending, then catch up a local mirror of the fleet with the
 * writes logged since the last listing, and answer from it: every replica answers from the
 * same Redis state. While Redis is slow or down, agents are served as before, pending changes
 * are held up to a bound (then dropped and counted), listings answer what this replica knows
 * and status() says the view is degraded; when Redis is back, every local agent is written again.
 */
export class RedisRegistry extends AgentPathOf implements AgentRegistry {
  readonly ttlMs: number;
  protected readonly local: MemoryRegistry;
  private readonly mirror = new FleetMirror();
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly maxPending: number;
  private readonly logger: Logger;
  /** Local record → parts changed since its last write (0 = only its times). */
  private pending = new Map<AgentRecord, number>();
  private dropped = 0;
  /** Set when changes were dropped or Redis came back: every local agent is written again. */
  private refill = false;
  /** The last write or read error, until one succeeds. */
  private failure: string | undefined;
  private readonly epoch = randomUUID();
  /** What the mirror has caught up to: Redis's epoch (changes when its data is lost) and sequence. */
  private seen: { epoch: string | null; seq: number } = { epoch: null, seq: 0 };
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  readonly flushNow: () => Promise<void>;
  private readonly refresh: () => Promise<boolean>;

  constructor(options: RedisRegistryOptions) {
    super();
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.prefix = options.prefix ?? "cs:";
    this.maxPending = options.maxPending ?? 100_000;
    this.logger = options.logger;
    // Every change marks the agent pending, with the parts that changed. Seen here first: the
    // whole record goes, so a new agent needs no second round trip; over a record another replica
    // wrote, only what changed is taken (FIRST: see redisScripts.ts).
    this.local = new MemoryRegistry({ ttlMs: options.ttlMs, now: this.now, onChange: (r, parts, first) => this.mark(r, first ? parts | FIRST : parts) });
    this.redis = redisClient(options.url, "registry", options.logger);
    this.redis.defineCommand("csFlush", { numberOfKeys: 0, lua: FLUSH_LUA });
    this.redis.defineCommand("csSweep", { numberOfKeys: 0, lua: SWEEP_LUA });
    this.redis.defineCommand("csHeads", { numberOfKeys: 0, lua: HEADS_LUA });
    let ready = false;
    this.redis.on("ready", () => {
      // Redis may have lost what was written (a restart without persistence): write everything again.
      if (ready || this.local.size > 0) this.refill = true;
      // A replica joining a fleet loads its mirror now, in the background, not on the first listing.
      else setImmediate(() => void this.refresh());
      ready = true;
    });
    this.flushNow = coalesced(() => this.flushAll());
    this.refresh = coalesced(() => this.catchUpAll());
    this.timer = setInterval(() => void this.flushNow().catch(() => undefined), options.flushMs ?? 100);
    this.timer.unref();
  }

  /** Resolves once connected to Redis, or after `timeoutMs` (the registry then starts degraded and keeps trying). */
  connected(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === "ready") return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.redis.off("ready", onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.on("ready", onReady);
    });
  }

  // ---- the agent path (AgentPathOf): memory only, synchronous ----

  sweep(): number {
    const cutoff = this.cutoff();
    this.mirror.sweep(cutoff);
    if (this.redis.status === "ready") {
      (this.redis as unknown as { csSweep: (...a: (string | number)[]) => Promise<number> }).csSweep(this.prefix, 1000).catch(() => undefined);
    }
    return this.local.sweep();
  }

  /**
   * Takes a change a worker of this server heard (--workers: the primary holds the server's agents
   * here) and writes it behind like one heard here: an agent new to this server goes as a first sight.
   */
  absorb(change: AbsorbedChange): Absorbed | undefined {
    const a = this.local.absorb(change);
    if (a !== undefined) this.mark(a.record, a.created ? change.mask | FIRST : a.parts);
    return a;
  }

  eachKnown(visit: (record: AgentRecord) => void): void {
    this.local.eachKnown(visit);
  }

  findLocal(agentId: string): AgentRecord | undefined {
    return this.local.findLocal(agentId);
  }

  private mark(record: AgentRecord, parts: number): void {
    const had = this.pending.get(record);
    if (had === undefined) {
      if (this.pending.size >= this.maxPending) {
        this.dropped++;
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

  // ---- writing behind ----

  /** Writes pending agents until none are left (or Redis fails). */
  private async flushAll(): Promise<void> {
    for (let round = 0; round < 100 && !this.closed; round++) {
      if (this.refill && this.pending.size < this.maxPending / 2 && this.redis.status === "ready") {
        this.refill = false;
        this.local.eachLocal((r) => {
          if (!this.pending.has(r)) this.pending.set(r, FULL | REFILL);
        });
      }
      if (this.pending.size === 0) return;
      if (this.redis.status !== "ready") {
        this.failure ??= "Redis is unreachable";
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
    const pipe = this.redis.pipeline() as Pipe;
    let args: (string | number)[] = [];
    let timesOnly = "";
    let inBatch = 0;
    const ttl = this.ttlMs;
    const send = () => {
      args[3] = timesOnly;
      pipe.csFlush(...args);
      inBatch = 0;
      timesOnly = "";
    };
    const cutoff = this.cutoff();
    for (const [r, parts] of taken) {
      if (r.lastSeenMs < cutoff) continue; // expired here meanwhile: its record expires in Redis too
      const id = r.agentId;
      if (inBatch === 0) args = [this.prefix, ttl, this.epoch, ""];
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
      this.fail(`writing agents to Redis failed: ${error.message}`);
      return;
    }
    this.failure = undefined;
    for (const [, result] of results ?? []) {
      for (const id of (result as [number, string[]])[1]) {
        const r = this.local.findLocal(id);
        if (r !== undefined) this.mark(r, FULL);
      }
    }
  }

  private fail(message: string): void {
    if (this.failure === undefined) this.logger.warn({ err: message, pending: this.pending.size }, "the shared fleet view is degraded");
    this.failure = message;
  }

  // ---- the listing side: the whole fleet, from Redis ----

  private cutoff(): number {
    return this.ttlMs > 0 ? this.now() - this.ttlMs : -Infinity;
  }

  /** Writes what is pending here, then reads into the mirror every write logged since the last catch-up. */
  private async catchUpAll(): Promise<boolean> {
    try {
      await this.flushNow();
      if (this.redis.status !== "ready") throw new Error("Redis is unreachable");
      const [[e1, epoch], [e2, seqText]] = (await this.redis.pipeline().get(`${this.prefix}epoch`).get(`${this.prefix}seq`).exec()) as [[Error | null, string | null], [Error | null, string | null]];
      if (e1 || e2) throw e1 ?? e2;
      if (epoch !== this.seen.epoch) {
        // Redis lost its data (or this is the first look): start over from what it has now.
        this.mirror.clear();
        this.seen = { epoch: epoch ?? null, seq: 0 };
      }
      const upTo = Number(seqText ?? 0);
      let from = this.seen.seq;
      while (from < upTo) from = await this.catchUpChunk(from, upTo);
      this.seen.seq = upTo;
      this.failure = undefined;
      return true;
    } catch (e) {
      this.fail(`reading the fleet from Redis failed: ${(e as Error).message}`);
      return false;
    }
  }

  /** Reads log entries with sequence in (from, upTo]; returns the sequence read up to. */
  private async catchUpChunk(from: number, upTo: number): Promise<number> {
    const flat = await this.redis.zrangebyscore(`${this.prefix}log`, `(${from}`, upTo, "WITHSCORES", "LIMIT", 0, CHUNK);
    if (flat.length === 0) return upTo;
    let ids: string[] = [];
    let scores: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      ids.push(flat[i] as string);
      scores.push(Number(flat[i + 1]));
    }
    let reached = upTo;
    if (ids.length === CHUNK) {
      // A full chunk may end inside one batch's entries (they share a score): leave that batch
      // for the next round, which starts after the last whole one.
      const last = scores[scores.length - 1] as number;
      let keep = scores.length;
      while (keep > 0 && scores[keep - 1] === last) keep--;
      if (keep === 0) keep = scores.length; // cannot happen with CHUNK > BATCH; read it all rather than loop
      reached = keep === scores.length ? last : (scores[keep - 1] as number);
      ids = ids.slice(0, keep);
      scores = scores.slice(0, keep);
    }
    // Agents the mirror holds: their headers first (times and rev, 51 bytes each), since most
    // changes are heartbeats that moved only the times. Agents it lacks are read whole at once.
    const known = ids.filter((id) => this.mirror.rev(id) !== undefined);
    const whole = ids.filter((id) => this.mirror.rev(id) === undefined);
    const heads = known.length === 0 ? [] : await (this.redis as unknown as { csHeads: (...a: string[]) => Promise<(string | null)[]> }).csHeads(this.prefix, ...known);
    for (let i = 0; i < known.length; i++) {
      const id = known[i] as string;
      const head = heads[i];
      if (head === null || head === undefined) this.mirror.delete(id);
      else if (revOf(head) === this.mirror.rev(id)) this.mirror.setTimes(id, head);
      else whole.push(id);
    }
    await this.readWhole(whole);
    return reached;
  }

  private async readWhole(ids: readonly string[]): Promise<void> {
    // MGETs of 1,000 keys, all sent at once (one connection pipelines them), decoded as they come.
    const reads: Promise<void>[] = [];
    for (let from = 0; from < ids.length; from += BATCH) {
      const slice = ids.slice(from, from + BATCH);
      reads.push(this.redis.mget(slice.map((id) => `${this.prefix}a:${id}`)).then((texts) => {
        for (let i = 0; i < slice.length; i++) {
          const id = slice[i] as string;
          const text = texts[i];
          if (text === null || text === undefined) this.mirror.delete(id);
          else this.mirror.set(id, decodeStored(text));
        }
      }));
    }
    await Promise.all(reads);
  }

  async find(agentId: string): Promise<AgentRecord | undefined> {
    try {
      await this.flushNow();
      if (this.redis.status !== "ready") throw new Error("Redis is unreachable");
      await this.readWhole([agentId]);
      return this.mirror.find(agentId, this.cutoff());
    } catch (e) {
      this.fail(`reading an agent from Redis failed: ${(e as Error).message}`);
      return this.local.findLocal(agentId) ?? this.mirror.find(agentId, this.cutoff());
    }
  }

  async list(): Promise<AgentRecord[]> {
    const fresh = await this.refresh();
    const shared = this.mirror.list(this.cutoff());
    return fresh ? shared : overlay(shared, this.local.listLocal());
  }

  async each(visit: (record: AgentRecord) => void): Promise<void> {
    if (await this.refresh()) this.mirror.each(this.cutoff(), visit);
    else for (const r of overlay(this.mirror.list(this.cutoff()), this.local.listLocal())) visit(r);
  }

  async liveCount(): Promise<number> {
    let n = 0;
    await this.each(() => n++);
    return n;
  }

  status(): FleetViewStatus {
    const down = this.redis.status !== "ready";
    const full = this.pending.size >= this.maxPending;
    const reason = down ? `Redis is unreachable${this.failure ? ` (${this.failure})` : ""}` : full ? `${this.pending.size} agents' changes are waiting to be written; new ones are dropped` : this.failure;
    return { backend: "redis", shared: true, degraded: down || full || this.failure !== undefined, reason, pendingWrites: this.pending.size, droppedWrites: this.dropped };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // A last write of what is pending, bounded by the command timeout.
    await this.flushNow().catch(() => undefined);
    this.closed = true;
    this.redis.disconnect();
  }
}

/** Two id-sorted lists as one: where both have an agent, the one heard from last wins. */
function overlay(shared: readonly AgentRecord[], local: readonly AgentRecord[]): AgentRecord[] {
  const out: AgentRecord[] = [];
  let i = 0;
  let j = 0;
  while (i < shared.length || j < local.length) {
    const a = shared[i];
    const b = local[j];
    if (b === undefined || (a !== undefined && a.agentId < b.agentId)) {
      out.push(a as AgentRecord);
      i++;
    } else if (a === undefined || b.agentId < a.agentId) {
      out.push(b);
      j++;
    } else {
      out.push(b.lastSeenMs >= a.lastSeenMs ? b : a);
      i++;
      j++;
    }
  }
  return out;
}
