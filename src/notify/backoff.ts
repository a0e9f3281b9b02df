/** How a failed delivery is retried. */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last failure the event is given up (counted as failed). */
  readonly attempts: number;
  /** The wait before the first retry; it doubles after each failure... */
  readonly baseDelayMs: number;
  /** ...up to this. */
  readonly maxDelayMs: number;
}

/**
 * The wait before retry `retry` (1 = the first retry): exponential, capped, with "equal jitter" —
 * a random half of it — so receivers that were down for everyone are not hit by every sender at
 * the same moment, yet the wait still grows. `random` returns [0, 1).
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(retry - 1, 0), 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** A `Retry-After` header (seconds, or an HTTP date) as milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
