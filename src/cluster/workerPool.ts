import type { Logger } from "pino";

/** What the pool needs of a forked worker (node:cluster's Worker has it). */
export interface ForkedWorker {
  readonly id: number;
  readonly process: { readonly pid?: number | undefined; kill(signal?: NodeJS.Signals): boolean };
  once(event: "exit", listener: (code: number | null, signal: string | null) => void): unknown;
  isDead(): boolean;
}

/** How long past its shutdown bound a worker is given before it is killed. */
const KILL_GRACE_MS = 1000;

/** A worker that keeps dying is replaced after a pause growing to this. */
export const MAX_RESPAWN_DELAY_MS = 30_000;
/** Deaths this long ago no longer count toward the pause. */
const DEATH_MEMORY_MS = 60_000;

/**
 * The pause before replacing a worker, given how many died in the last minute (this one
 * included): none for the first three, then 0.5 s doubling to 30 s. A worker crashing again and
 * again (a bug, a full machine) keeps the log readable and the machine usable.
 */
export function respawnDelay(recentDeaths: number): number {
  return Math.min(MAX_RESPAWN_DELAY_MS, recentDeaths <= 3 ? 0 : 250 * 2 ** (recentDeaths - 3));
}

export interface WorkerPoolOptions<W extends ForkedWorker> {
  readonly fork: () => W;
  readonly logger: Logger;
  /** A worker was forked (its messages may come from now on). */
  readonly onFork: (worker: W) => void;
  /**
   * A worker exited, told before anything else happens. `replacing`: the pool starts another
   * (false while starting, when a death is a failed start, and once stopping).
   */
  readonly onExit: (worker: W, how: string, replacing: boolean) => void;
  readonly now?: () => number;
  /** How a replacement is scheduled (tests run it at once). */
  readonly later?: (run: () => void, ms: number) => void;
}

/**
 * The worker processes: forks them, and once they all started replaces each that dies (after a
 * pause growing with repeated deaths), until stopped.
 */
export class WorkerPool<W extends ForkedWorker> {
  readonly workers = new Map<number, W>();
  private phase: "starting" | "running" | "stopping" = "starting";
  private deaths: number[] = [];
  private replaced = 0;

  constructor(private readonly options: WorkerPoolOptions<W>) {}

  /** Forks `n` workers. A death before running() is the caller's failed start, not replaced. */
  start(n: number): void {
    for (let i = 0; i < n; i++) this.fork();
  }

  /** Every worker started: from now on a dead one is replaced. */
  running(): void {
    if (this.phase === "starting") this.phase = "running";
  }

  /** No more replacements (the server is stopping). */
  stop(): void {
    this.phase = "stopping";
  }

  get stopping(): boolean {
    return this.phase === "stopping";
  }

  /** Workers started to replace dead ones. */
  get restarts(): number {
    return this.replaced;
  }

  /**
   * Stops the pool: no more replacements, `tell` asks each worker to stop within `boundMs`;
   * resolves once every worker exited. One still running a second past the bound is killed.
   */
  async shutdown(boundMs: number, tell: (worker: W) => void): Promise<void> {
    this.stop();
    const exits = [...this.workers.values()].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once("exit", () => resolve());
      tell(w);
    }));
    const late = setTimeout(() => {
      for (const w of this.workers.values()) this.options.logger.warn({ worker: w.id }, "a worker did not stop in time; killing it");
      this.killAll();
    }, boundMs + KILL_GRACE_MS);
    await Promise.all(exits);
    clearTimeout(late);
  }

  /** SIGKILLs every worker (a failed start, or a stop past its bound). */
  killAll(): void {
    for (const w of this.workers.values()) w.process.kill("SIGKILL");
  }

  private fork(): W {
    const worker = this.options.fork();
    this.workers.set(worker.id, worker);
    this.options.onFork(worker);
    worker.once("exit", (code, signal) => this.exited(worker, code, signal));
    return worker;
  }

  private exited(worker: W, code: number | null, signal: string | null): void {
    this.workers.delete(worker.id);
    const replacing = this.phase === "running";
    const how = signal !== null && signal !== undefined ? `was killed (${signal})` : `exited (${code})`;
    this.options.onExit(worker, how, replacing);
    if (!replacing) return;
    this.options.logger.error({ worker: worker.id, pid: worker.process.pid, code, signal }, `a worker ${how}; starting another`);
    const now = (this.options.now ?? Date.now)();
    this.deaths = [...this.deaths.filter((t) => now - t < DEATH_MEMORY_MS), now];
    const later = this.options.later ?? ((run, ms) => setTimeout(run, ms).unref());
    later(() => {
      if (this.phase !== "running") return;
      this.replaced++;
      this.fork();
    }, respawnDelay(this.deaths.length));
  }
}
