import type { Logger } from "pino";
import { backoffDelay, retryAfterMs, type RetryPolicy } from "./backoff.ts";
import { deliverOnce, type AttemptResult } from "./deliver.ts";

/** One event on its way to one URL. */
export interface Pending {
  readonly type: string;
  readonly delivery: string;
  readonly body: Buffer;
}

export interface ChannelOptions extends RetryPolicy {
  readonly url: string;
  /** How logs name the URL (shownUrl): never the URL itself. */
  readonly shown: string;
  readonly secret: string | undefined;
  readonly timeoutMs: number;
  /** Events waiting behind the one being delivered; beyond it the oldest waiting is dropped. */
  readonly queueLimit: number;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly counted: {
    sent(type: string): void;
    failed(type: string): void;
    dropped(type: string): void;
  };
}

/**
 * The events for one URL, delivered one at a time in the order they were emitted: a later event
 * waits while an earlier one is retried, so a receiver never sees "completed" before "started".
 */
export class UrlChannel {
  private readonly waiting: Pending[] = [];
  private running = false;
  private closing = false;
  private aborted = false;
  private wake: (() => void) | undefined;
  private abortAttempt: (() => void) | undefined;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly o: ChannelOptions) {}

  add(p: Pending): void {
    if (this.waiting.length >= this.o.queueLimit) {
      const old = this.waiting.shift() as Pending;
      this.o.counted.dropped(old.type);
      this.o.logger.warn({ url: this.o.shown, type: old.type, delivery: old.delivery, waiting: this.o.queueLimit }, "notification dropped: too many wait for this URL (the oldest waiting one goes)");
    }
    this.waiting.push(p);
    if (!this.running) {
      this.running = true;
      this.idle = this.run();
    }
  }

  /** Delivers what waits with one attempt each and no waits between them; the caller bounds it (`abort`). */
  drain(): Promise<void> {
    this.closing = true;
    this.wake?.();
    return this.idle;
  }

  /** Stops now: what is left is dropped (counted). */
  abort(): void {
    this.closing = true;
    this.aborted = true;
    for (const p of this.waiting.splice(0)) this.o.counted.dropped(p.type);
    this.abortAttempt?.();
    this.wake?.();
  }

  private async run(): Promise<void> {
    for (let p = this.waiting.shift(); p !== undefined; p = this.waiting.shift()) await this.deliver(p);
    this.running = false;
  }

  private async deliver(p: Pending): Promise<void> {
    const { url, shown, logger } = this.o;
    for (let attempt = 1; ; attempt++) {
      if (this.aborted) {
        this.o.counted.dropped(p.type);
        logger.warn({ url: shown, type: p.type, delivery: p.delivery, attempts: attempt - 1 }, "notification dropped: the server is stopping");
        return;
      }
      const one = deliverOnce({ url, body: p.body, type: p.type, delivery: p.delivery, secret: this.o.secret, timeoutMs: this.o.timeoutMs });
      this.abortAttempt = one.abort;
      const r: AttemptResult = await one.done;
      this.abortAttempt = undefined;
      if (r.outcome === "delivered") {
        this.o.counted.sent(p.type);
        logger.debug({ url: shown, type: p.type, delivery: p.delivery, attempt, status: r.status }, "notification delivered");
        return;
      }
      if (this.aborted) {
        this.o.counted.dropped(p.type);
        logger.warn({ url: shown, type: p.type, delivery: p.delivery, attempts: attempt }, "notification dropped: the server is stopping");
        return;
      }
      const last = r.outcome === "give-up" || attempt >= this.o.attempts || this.closing;
      if (last) {
        this.o.counted.failed(p.type);
        logger.warn({ url: shown, type: p.type, delivery: p.delivery, attempts: attempt, reason: r.reason }, "notification not delivered; given up");
        return;
      }
      const backoff = backoffDelay(attempt, this.o, this.o.random);
      const asked = r.retryAfter !== undefined ? retryAfterMs(r.retryAfter, Date.now()) : undefined;
      const waitMs = Math.min(this.o.maxDelayMs, Math.max(backoff, asked ?? 0));
      logger.warn({ url: shown, type: p.type, delivery: p.delivery, attempt, reason: r.reason, retryInMs: waitMs }, "notification not delivered; retrying");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), waitMs);
        timer.unref();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
