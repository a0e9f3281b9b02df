import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AgentRecord } from "../domain/agent.ts";
import type { AgentRegistry, FleetViewStatus } from "../domain/registry.ts";
import { redisClient } from "../redis/connect.ts";
import type { Absorbed, AbsorbedChange } from "./absorbedChange.ts";
import { AgentPathOf } from "./agentPathOf.ts";
import { coalesced } from "./coalesced.ts";
import { liveSince } from "./expiry.ts";
import { FleetMirror } from "./fleetMirror.ts";
import { MemoryRegistry, type AgentAdmission } from "./memoryRegistry.ts";
import { RedisLogReplay } from "./redisLogReplay.ts";
import { FLUSH_LUA, HEADS_LUA, SWEEP_LUA } from "./redisScripts.ts";
import { FIRST, RedisWriteBehind } from "./redisWriteBehind.ts";

export interface RedisRegistryOptions {
  /** redis://[user:password@]host:port/db */
  readonly url: string;
  readonly ttlMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** --max-agents (memoryRegistry.ts). */
  readonly admission?: AgentAdmission | undefined;
  /** How often pending agent changes are written. Default 100 ms. */
  readonly flushMs?: number;
  /** Distinct agents with unwritten changes kept while Redis is slow or down; past it, changes are dropped (counted). */
  readonly maxPending?: number;
  /** Key prefix; default "cs:". */
  readonly prefix?: string;
}

/**
 * The shared registry: every replica writes its agents to one Redis and lists the whole fleet
 * from it (docs/deployment.md).
 *
 * The agent path is MemoryRegistry's, untouched: this replica's agents live in a local cache
 * and each change only marks the agent pending; the write-behind (redisWriteBehind.ts) writes
 * them on a timer. Listings first write what is pending, then replay the write log into a local
 * mirror of the fleet (redisLogReplay.ts, fleetMirror.ts) and answer from it: every replica
 * answers from the same Redis state. While Redis is slow or down, agents are served as before,
 * listings answer what this replica knows and status() says the view is degraded; when Redis is
 * back, every local agent is written again.
 */
export class RedisRegistry extends AgentPathOf implements AgentRegistry {
  readonly ttlMs: number;
  protected readonly local: MemoryRegistry;
  private readonly mirror = new FleetMirror();
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly writes: RedisWriteBehind;
  private readonly log: RedisLogReplay;
  /** The last write or read error, until one succeeds. */
  private failure: string | undefined;
  private readonly timer: NodeJS.Timeout;
  readonly flushNow: () => Promise<void>;
  private readonly refresh: () => Promise<boolean>;

  constructor(options: RedisRegistryOptions) {
    super();
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.prefix = options.prefix ?? "cs:";
    this.logger = options.logger;
    // Every change marks the agent pending, with the parts that changed. Seen here first: the
    // whole record goes, so a new agent needs no second round trip; over a record another replica
    // wrote, only what changed is taken (FIRST: see redisScripts.ts).
    this.local = new MemoryRegistry({ ttlMs: options.ttlMs, now: this.now, admission: options.admission, onChange: (r, parts, first) => this.writes.mark(r, first ? parts | FIRST : parts) });
    this.redis = redisClient(options.url, "registry", options.logger);
    this.redis.defineCommand("csFlush", { numberOfKeys: 0, lua: FLUSH_LUA });
    this.redis.defineCommand("csSweep", { numberOfKeys: 0, lua: SWEEP_LUA });
    this.redis.defineCommand("csHeads", { numberOfKeys: 0, lua: HEADS_LUA });
    this.writes = new RedisWriteBehind({
      redis: this.redis,
      prefix: this.prefix,
      ttlMs: this.ttlMs,
      epoch: randomUUID(),
      maxPending: options.maxPending ?? 100_000,
      cutoff: () => this.cutoff(),
      local: this.local,
      onUnreachable: () => (this.failure ??= "Redis is unreachable"),
      onFailure: (message) => this.fail(message),
      onSuccess: () => (this.failure = undefined),
    });
    this.log = new RedisLogReplay(this.redis, this.prefix, this.mirror);
    let ready = false;
    this.redis.on("ready", () => {
      // Redis may have lost what was written (a restart without persistence): write everything again.
      if (ready || this.local.size > 0) this.writes.writeAllAgain();
      // A replica joining a fleet loads its mirror now, in the background, not on the first listing.
      else setImmediate(() => void this.refresh());
      ready = true;
    });
    this.flushNow = coalesced(() => this.writes.flushAll());
    this.refresh = coalesced(() => this.refreshMirror());
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
    if (a !== undefined) this.writes.mark(a.record, a.created ? change.mask | FIRST : a.parts);
    return a;
  }

  eachKnown(visit: (record: AgentRecord) => void): void {
    this.local.eachKnown(visit);
  }

  findLocal(agentId: string): AgentRecord | undefined {
    return this.local.findLocal(agentId);
  }

  private fail(message: string): void {
    if (this.failure === undefined) this.logger.warn({ err: message, pending: this.writes.size }, "the shared fleet view is degraded");
    this.failure = message;
  }

  // ---- the listing side: the whole fleet, from Redis ----

  private cutoff(): number {
    return liveSince(this.ttlMs, this.now());
  }

  /** Writes what is pending here, then replays into the mirror every write logged since the last listing. */
  private async refreshMirror(): Promise<boolean> {
    try {
      await this.flushNow();
      await this.log.replay();
      this.failure = undefined;
      return true;
    } catch (e) {
      this.fail(`reading the fleet from Redis failed: ${(e as Error).message}`);
      return false;
    }
  }

  async find(agentId: string): Promise<AgentRecord | undefined> {
    try {
      await this.flushNow();
      if (this.redis.status !== "ready") throw new Error("Redis is unreachable");
      await this.log.readWhole([agentId]);
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
    const full = this.writes.full;
    const pending = this.writes.size;
    const reason = down ? `Redis is unreachable${this.failure ? ` (${this.failure})` : ""}` : full ? `${pending} agents' changes are waiting to be written; new ones are dropped` : this.failure;
    return { backend: "redis", shared: true, degraded: down || full || this.failure !== undefined, reason, pendingWrites: pending, droppedWrites: this.writes.dropped };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    // A last write of what is pending, bounded by the command timeout.
    await this.flushNow().catch(() => undefined);
    this.writes.stop();
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
