import type { ChangeBatch } from "../agents/replication.ts";
import { DeferredChanges } from "./deferredChanges.ts";

/**
 * How often what may wait (times, statistics, alarms) is passed on to the other workers: a
 * twentieth of the TTL (1 to 30 s), well before they would expire an agent.
 */
export const relayInterval = (ttlMs: number) => (ttlMs > 0 ? Math.min(30_000, Math.max(1000, ttlMs / 20)) : 30_000);

/**
 * Passes each worker's agent changes on to the other workers: what their agent path reads at
 * once, the rest deferred per sending worker and sent coalesced on a timer, and when that worker
 * exits (its agents are the other workers' now).
 */
export class ChangeRelay {
  private readonly deferred = new Map<number, DeferredChanges>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Sends a batch to every live worker except `except`. */
    private readonly toOthers: (except: number | undefined, batch: ChangeBatch) => void,
  ) {}

  /** A batch worker `from` sent (the primary absorbed it already). */
  received(from: number, batch: ChangeBatch): void {
    let mine = this.deferred.get(from);
    if (mine === undefined) this.deferred.set(from, (mine = new DeferredChanges()));
    const now = mine.take(batch);
    if (now !== undefined) this.toOthers(from, now);
  }

  /** Worker `id` exited: what it sent and was deferred goes to every live worker. */
  gone(id: number): void {
    const batch = this.deferred.get(id)?.drain();
    this.deferred.delete(id);
    if (batch !== undefined) this.toOthers(undefined, batch);
  }

  /** Sends everything deferred now (each worker's to the others). */
  relayDeferred(): void {
    for (const [from, mine] of this.deferred) {
      const batch = mine.drain();
      if (batch !== undefined) this.toOthers(from, batch);
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.relayDeferred(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
