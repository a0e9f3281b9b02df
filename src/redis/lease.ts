import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { redisClient } from "./connect.ts";

// Renews only while the key still names this holder: a lease that expired and was taken by
// another replica is never extended or deleted by the one that lost it.
const RENEW_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
const RELEASE_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

export interface LeaseOptions {
  readonly url: string;
  readonly key: string;
  readonly logger: Logger;
  /** How long the lease lasts without a renewal; a holder that dies is replaced after this. */
  readonly ttlMs?: number;
  /** This replica now holds the lease. */
  readonly onAcquired: () => void;
  /** This replica no longer holds it (another took it, or renewals failed for as long as it lasts). */
  readonly onLost: () => void;
}

/**
 * One holder among the replicas on one Redis: the holder renews the key every third of its TTL;
 * the others try to take it as often. A holder that cannot reach Redis gives the lease up before it
 * can expire (it cannot know whether another took it), so two holders never act at once for longer
 * than a clock's drift.
 */
export class RedisLease {
  readonly id = randomUUID();
  private readonly redis: Redis;
  private readonly ttlMs: number;
  private held = false;
  /** When the lease last became or stayed ours (performance.now()); it runs out ttlMs later. */
  private confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: LeaseOptions) {
    this.ttlMs = options.ttlMs ?? 5000;
    this.redis = redisClient(options.url, "lease", options.logger);
    this.tick();
  }

  get holding(): boolean {
    return this.held;
  }

  private tick(): void {
    if (this.closed) return;
    void this.step().finally(() => {
      if (this.closed) return;
      this.timer = setTimeout(() => this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
      this.timer.unref();
    });
  }

  private async step(): Promise<void> {
    const asked = performance.now();
    try {
      if (this.held) {
        const renewed = await this.redis.eval(RENEW_LUA, 1, this.options.key, this.id, String(this.ttlMs));
        if (renewed === 1) this.confirmedAt = asked;
        else this.lose("another replica holds the lease");
      } else if (this.redis.status === "ready") {
        const taken = await this.redis.set(this.options.key, this.id, "PX", this.ttlMs, "NX");
        if (taken === "OK" && !this.closed) {
          this.held = true;
          this.confirmedAt = asked;
          this.options.onAcquired();
        }
      }
    } catch (err) {
      this.options.logger.debug({ err: (err as Error).message, key: this.options.key }, "the lease could not be renewed or taken");
    }
    // A margin of a third: the lease is given up while it is certainly still ours.
    if (this.held && performance.now() - this.confirmedAt > (this.ttlMs * 2) / 3) this.lose("Redis did not confirm the lease in time");
  }

  private lose(why: string): void {
    if (!this.held) return;
    this.held = false;
    this.options.logger.warn({ key: this.options.key, why }, "gave up the lease");
    this.options.onLost();
  }

  /** Gives the lease up (another replica takes it at its next try, within a third of the TTL) and disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.held) {
      this.held = false;
      await this.redis.eval(RELEASE_LUA, 1, this.options.key, this.id).catch(() => undefined);
    }
    this.redis.disconnect();
  }
}
