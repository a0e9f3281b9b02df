import { DomainError } from "./domain/errors.ts";
import type { Metrics } from "./metrics.ts";
import type { RepoStore } from "./store/repoStore.ts";

/**
 * Wraps a store's writes for shutdown and metrics: once `close()` is called, a write that has not
 * started yet is refused (ServerBusy, nothing written) while one already committing finishes;
 * `drain()` waits for those. The time of each write is measured from the moment it holds the
 * store's lock (its plan runs) until its commit is served, so time queued behind others is excluded.
 */
export class WriteGate {
  private closing = false;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(store: RepoStore, metrics?: Metrics) {
    const write = store.write.bind(store);
    store.write = (plan) => {
      let started: number | undefined;
      const p = write((state) => {
        if (started === undefined) {
          if (this.closing) throw new DomainError("ServerBusy", "The server is shutting down; the change was not made. Retry in a moment.");
          started = performance.now();
        }
        return plan(state);
      });
      const seconds = () => (performance.now() - (started as number)) / 1000;
      const tracked = p.then(
        (r) => void (started !== undefined && metrics?.writeCompleted(r.commit ? "committed" : "unchanged", seconds())),
        () => void (started !== undefined && metrics?.writeCompleted("failed", seconds())),
      );
      this.pending.add(tracked);
      void tracked.finally(() => this.pending.delete(tracked));
      return p;
    };
  }

  /** Refuse writes that have not started. */
  close(): void {
    this.closing = true;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Resolves when every started write has ended. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
