import type { AgentRegistry } from "../domain/registry.ts";

/** Whether a record last heard from at `lastSeenMs` has expired at `nowMs` (a TTL of 0 keeps it forever). */
export const isExpired = (lastSeenMs: number, ttlMs: number, nowMs: number): boolean => ttlMs > 0 && nowMs - lastSeenMs > ttlMs;

/** The oldest lastSeenMs still live at `nowMs` (-Infinity when nothing expires). */
export const liveSince = (ttlMs: number, nowMs: number): number => (ttlMs > 0 ? nowMs - ttlMs : -Infinity);

/**
 * Sweeps the registry every tenth of its TTL (1 s to 1 min) while it has one; returns the stop.
 * Expired agents are already invisible: the sweep frees their memory.
 */
export function startSweeping(registry: Pick<AgentRegistry, "ttlMs" | "sweep">): () => void {
  if (registry.ttlMs <= 0) return () => undefined;
  const timer = setInterval(() => registry.sweep(), Math.min(Math.max(registry.ttlMs / 10, 1000), 60_000));
  timer.unref();
  return () => clearInterval(timer);
}
