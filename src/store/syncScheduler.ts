import type { RepoStore } from "./repoStore.ts";

export interface SchedulerOptions {
  readonly intervalMs: number;
  /** A sync that rejected instead of reporting (a bug: RepoStore.sync reports its failures); the schedule goes on. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Syncs on an interval with jitter (so a fleet of servers does not fetch in lockstep), backs off
 * exponentially while the remote fails, and syncs at once when asked (a webhook).
 */
export class SyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: RepoStore,
    private readonly options: SchedulerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.arm(0);
  }

  /** Sync as soon as possible; a request during a running sync causes one more run after it. */
  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    clearTimeout(this.timer);
    this.running = this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        const report = await this.store.sync().catch((e: unknown) => {
          this.options.onError?.(e);
          return { ok: false };
        });
        this.failures = report.ok ? 0 : this.failures + 1;
      } while (this.again && !this.stopped);
    } finally {
      this.running = undefined;
      if (!this.stopped) this.arm(this.nextDelay());
    }
  }

  private nextDelay(): number {
    // After a failure retry sooner (1 s, 2 s, 4 s, ...) but never less often than the interval.
    const interval = this.options.intervalMs;
    const base = this.failures === 0 ? interval : Math.min(interval, 1000 * 2 ** Math.min(this.failures - 1, 16));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private arm(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.trigger(), delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
