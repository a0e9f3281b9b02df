/**
 * Wakes requests that wait for the served snapshot to change (v2 `WaitForChange=true`). Waiting
 * is bounded in time per request and in count per server: beyond `maxWaiters` a request is
 * answered at once, as if it had not asked to wait.
 */
export class ChangeSignal {
  private waiters = new Set<() => void>();

  constructor(readonly maxWaiters = 10_000) {}

  /** Resolves true when the snapshot changed, false after `ms` (or at once when too many wait). */
  wait(ms: number): Promise<boolean> {
    if (ms <= 0 || this.waiters.size >= this.maxWaiters) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        resolve(false);
      }, ms);
      timer.unref();
      this.waiters.add(wake);
    });
  }

  /** A new snapshot is served. */
  fire(): void {
    const woken = this.waiters;
    this.waiters = new Set();
    for (const wake of woken) wake();
  }

  get waiting(): number {
    return this.waiters.size;
  }
}
