import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { RetryPolicy } from "./backoff.ts";
import { eventBody, type ServerIdentity } from "./eventBody.ts";
import type { NotifyEvent } from "./events.ts";
import { shownUrl } from "./shownUrl.ts";
import { UrlChannel } from "./urlChannel.ts";

/** Delivery tuning: code-only (the tests shorten the waits); the defaults are what `serve` uses. */
export interface NotifyTuning extends Partial<RetryPolicy> {
  /** Bound of one attempt, connect to answer. */
  readonly timeoutMs?: number;
  /** Events waiting per URL behind the one being delivered. */
  readonly queueLimit?: number;
  /** How long close() lets what waits be delivered (one attempt each) before dropping the rest. */
  readonly closeMs?: number;
  readonly random?: () => number;
}

export const NOTIFY_DEFAULTS = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 5 * 60_000, timeoutMs: 10_000, queueLimit: 1000, closeMs: 5000 } as const;

export interface NotifierOptions {
  /** Receivers (--notify-url); none: emit does nothing. */
  readonly urls: readonly string[];
  /** HMAC-SHA256 key (--notify-secret); unset: events are sent unsigned. */
  readonly secret?: string | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly server?: ServerIdentity;
  readonly tuning?: NotifyTuning;
  /** Counted per event type: delivered, given up after the attempts, dropped from a full queue or at close. */
  readonly counted?: {
    sent(type: string): void;
    failed(type: string): void;
    dropped(type: string): void;
  };
}

export interface Notifier {
  /** Queues the event for every URL and returns at once: never blocks, never throws. */
  emit(event: NotifyEvent): void;
  /** Stops taking events; delivers what waits (one attempt each), bounded by closeMs; drops the rest. */
  close(): Promise<void>;
}

const NONE = { sent: () => undefined, failed: () => undefined, dropped: () => undefined };

/** The server's outgoing events: one ordered, bounded, retrying channel per URL. */
export function createNotifier(options: NotifierOptions): Notifier {
  const t = { ...NOTIFY_DEFAULTS, ...options.tuning };
  const counted = options.counted ?? NONE;
  const server = options.server ?? { host: hostname(), pid: process.pid };
  const now = options.now ?? Date.now;
  const channels = options.urls.map((url) => new UrlChannel({
    url, shown: shownUrl(url), secret: options.secret, timeoutMs: t.timeoutMs, queueLimit: t.queueLimit, logger: options.logger,
    attempts: t.attempts, baseDelayMs: t.baseDelayMs, maxDelayMs: t.maxDelayMs, counted, ...(t.random ? { random: t.random } : {}),
  }));
  let closed: Promise<void> | undefined;
  return {
    emit(event) {
      if (channels.length === 0) return;
      if (closed) {
        for (const _ of channels) counted.dropped(event.type);
        options.logger.warn({ type: event.type }, "notification dropped: the server is stopping");
        return;
      }
      let body: Buffer;
      try {
        body = Buffer.from(JSON.stringify(eventBody(event, server, now())));
      } catch (err) {
        options.logger.error({ err, type: event.type }, "bug: a notification could not be built; dropped");
        return;
      }
      // One delivery id per event: the same at every URL and every attempt.
      const delivery = randomUUID();
      for (const c of channels) c.add({ type: event.type, delivery, body });
    },
    close: () => (closed ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<"late">((resolve) => { timer = setTimeout(() => resolve("late"), t.closeMs); });
      const drained = Promise.all(channels.map((c) => c.drain()));
      if ((await Promise.race([drained, bound])) === "late") {
        for (const c of channels) c.abort();
        await drained;
      }
      clearTimeout(timer);
    })()),
  };
}
