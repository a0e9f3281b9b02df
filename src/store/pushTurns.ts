/** How long after its last rejected push a server still takes turns with others. */
const CONTENTION_MEMORY_MS = 10_000;
/** How often an uncontended server still leaves a turn open after a push (see PushTurns). */
const PROBE_TURN = 0.15;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Fair turns on a shared remote. A server whose push was rejected knows others are writing;
 * for a while after that, each of its writes starts by fetching what the others pushed meanwhile
 * (instead of with a push bound to be rejected), and each successful push of its own is followed
 * by a short pause (a fifth to half of a push's time) before its next one: together they give the
 * server that just lost the race the window it needs (fetch, re-plan, commit, push) to win it.
 * Without that, a server that falls behind never catches up with one that pushes back to back
 * (91-97 % of its writes refused in the measurements of issue 10). A server that has not been rejected cannot know whether someone is losing to it, so
 * it leaves a window open (half to one push's time) after PROBE_TURN of its pushes too: a loser
 * then wins once, and its push makes the winner's next one fail, so both take turns from there on.
 * A pause only delays a write that follows at once (sustained load); a later one does not wait.
 *
 * The writer (repoWriter.ts) asks it before each attempt and tells it how each push went.
 */
export class PushTurns {
  private contendedUntil = 0;
  private nextTurn = 0;
  /** Recent duration of one push, ms (a moving average). */
  private pushMs = 150;

  /** Waits for this server's turn (the pause after its last push, if any). */
  async yieldTurn(): Promise<void> {
    const wait = this.nextTurn - performance.now();
    if (wait > 0) await sleep(wait);
  }

  /** Whether a push of this server was rejected recently: others are pushing, so fetch first. */
  contended(): boolean {
    return performance.now() < this.contendedUntil;
  }

  /** One push took `ms` (pushed or not): the pauses are measured in pushes. */
  pushTook(ms: number): void {
    this.pushMs = 0.8 * this.pushMs + 0.2 * ms;
  }

  tookTurn(): void {
    const now = performance.now();
    // Contended, the fetch at the start of the next write adds to the pause; a probe pauses longer.
    const contended = now < this.contendedUntil;
    if (contended) this.nextTurn = now + this.pushMs * (0.2 + Math.random() * 0.3);
    else this.nextTurn = Math.random() < PROBE_TURN ? now + this.pushMs * (0.5 + Math.random() * 0.5) : 0;
  }

  lostTurn(): void {
    const now = performance.now();
    this.contendedUntil = now + CONTENTION_MEMORY_MS;
    // A little jitter keeps several losing servers from re-planning in lockstep.
    this.nextTurn = now + Math.random() * this.pushMs * 0.25;
  }
}
