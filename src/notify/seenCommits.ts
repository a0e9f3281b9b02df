/** How many commits are remembered: a refused commit comes back only after newer ones, and rarely. */
const REMEMBERED = 256;

/**
 * The commits an event was sent for, so a commit seen again (the next sync, a reload, a reset
 * back to it) sends nothing more. Bounded: the oldest is forgotten first.
 */
export class SeenCommits {
  private readonly seen = new Set<string>();

  /** True the first time a commit is seen. */
  first(commit: string): boolean {
    if (this.seen.has(commit)) return false;
    this.seen.add(commit);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }
}
