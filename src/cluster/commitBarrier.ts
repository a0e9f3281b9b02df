/**
 * What makes a write through any worker visible through every worker: the primary answers a
 * request during which the served commit changed only once every live worker serves that commit
 * (or after a bound, with a warning: a stuck worker delays answers, never wedges them).
 */
export class CommitBarrier {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: {
    /** The commit each live worker serves (null before its first snapshot), starting workers too. */
    readonly served: () => readonly (string | null)[];
    readonly boundMs: number;
    /** The bound passed with a worker still on another commit. */
    readonly onLate: (commit: string) => void;
  }) {}

  /** Resolves once every live worker serves `commit`, or after the bound. */
  wait(commit: string): Promise<void> {
    const done = () => this.options.served().every((c) => c === commit);
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        this.options.onLate(commit);
        resolve();
      }, this.options.boundMs);
      this.waiters.add(check);
    });
  }

  /** A worker serves another commit, or the set of workers changed: the waiters look again. */
  recheck(): void {
    for (const check of [...this.waiters]) check();
  }

  get waiting(): number {
    return this.waiters.size;
  }
}
