/** A request waiting for its answer: a node of the in-flight list (no wrapper object per request). */
export interface Deadline {
  /** performance.now() at which it expires. */
  deadline: number;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  /** Whether it is in the list. */
  waiting: boolean;
}

/**
 * Requests in flight with one timeout each, behind one timer. Every request gets the same
 * timeout, so deadlines come in the order requests arrive: a list in arrival order is a list in
 * deadline order, adding and removing is O(1), and only the head's deadline needs a timer. A timer
 * per request (setTimeout + clearTimeout, a Timeout object each) costs more than the whole route
 * at tens of thousands of requests a second. A request still waiting at its deadline is passed
 * to `expire` (never earlier; at most a timer tick later).
 */
export class Deadlines<T extends Deadline> {
  private head: Deadline | undefined;
  private tail: Deadline | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now()); Infinity when none is armed. */
  private firesAt = Infinity;

  constructor(
    private readonly ms: number,
    private readonly expire: (entry: T) => void,
  ) {}

  add(entry: T, now: number): void {
    entry.deadline = now + this.ms;
    entry.waiting = true;
    entry.next = undefined;
    entry.prev = this.tail;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    if (this.firesAt === Infinity) this.arm(now);
  }

  remove(entry: T): void {
    if (!entry.waiting) return;
    entry.waiting = false;
    const { prev, next } = entry;
    if (prev) prev.next = next;
    else this.head = next;
    if (next) next.prev = prev;
    else this.tail = prev;
    entry.prev = entry.next = undefined;
    // The timer stays armed for the removed head: when it fires it re-arms for the new head.
  }

  private arm(now: number): void {
    const head = this.head;
    if (head === undefined) return;
    const delay = Math.max(1, Math.ceil(head.deadline - now));
    this.firesAt = now + delay;
    this.timer = setTimeout(this.fire, delay);
    // The sockets of the requests keep the process alive, not this timer.
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.firesAt = Infinity;
    const now = performance.now();
    for (let head = this.head; head !== undefined && head.deadline <= now; head = this.head) {
      this.remove(head as T);
      this.expire(head as T);
    }
    this.arm(now);
  };
}
