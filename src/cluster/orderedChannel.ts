/**
 * One end of an ordered message channel (node:cluster's IPC between the primary and a worker:
 * messages arrive in the order sent). A call is a message carrying a number; its answer carries
 * the number back and settles that call, whatever order answers come in. A call is bounded: it
 * resolves undefined when no answer comes in time or the other end goes away, never hangs.
 */
export class OrderedChannel<Out> {
  private numbered = 0;
  private readonly waiting = new Map<number, (value: unknown) => void>();

  constructor(
    /** Puts one message on the channel (a closed channel drops it: its calls then time out or close). */
    private readonly post: (message: Out) => void,
  ) {}

  send(message: Out): void {
    this.post(message);
  }

  /** Sends the message `make(n)` builds; resolves with the answer numbered n, or undefined after `boundMs` or on close(). */
  call<T>(make: (n: number) => Out, boundMs: number): Promise<T | undefined> {
    const n = ++this.numbered;
    return new Promise((resolve) => {
      const settle = (value: unknown) => {
        clearTimeout(timer);
        this.waiting.delete(n);
        resolve(value as T | undefined);
      };
      const timer = setTimeout(() => settle(undefined), boundMs);
      // A call out never keeps a process alive on its own.
      timer.unref();
      this.waiting.set(n, settle);
      this.post(make(n));
    });
  }

  /** The answer to call `n` came (a late or unknown number is ignored: that call already resolved). */
  answer(n: number, value: unknown): void {
    this.waiting.get(n)?.(value);
  }

  /** The other end is gone: every call out resolves undefined now. */
  close(): void {
    for (const settle of [...this.waiting.values()]) settle(undefined);
  }

  /** Calls waiting for their answer. */
  get open(): number {
    return this.waiting.size;
  }
}
