import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, epoch, request } from "./api.ts";
import { useSignal } from "./signal.ts";

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: ApiError | Error | undefined;
  readonly loading: boolean;
}

/** How often pages refresh on their own while the tab is visible. */
export const POLL_MS = 3000;

/**
 * Fetches `path` now and every `intervalMs` while the tab is visible, with If-None-Match: an
 * unchanged answer is a 304 and nothing re-renders. `path` undefined: nothing is fetched.
 */
export function usePoll<T>(path: string | undefined, intervalMs = POLL_MS): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: undefined, error: undefined, loading: path !== undefined });
  const etag = useRef<string | undefined>(undefined);
  const generation = useSignal(epoch);
  const last = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (path === undefined) return;
    if (last.current !== path) {
      // Another resource: what was shown belongs to the previous one.
      etag.current = undefined;
      last.current = path;
      setState({ data: undefined, error: undefined, loading: true });
    }
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const tick = async () => {
      if (stopped) return;
      if (document.visibilityState !== "hidden") {
        try {
          const answer = await request<T>(path, { etag: etag.current, signal: controller.signal });
          if (stopped) return;
          if (answer.status !== 304) {
            etag.current = answer.etag;
            setState({ data: answer.data, error: undefined, loading: false });
          } else setState((s) => (s.error ? { ...s, error: undefined } : s));
        } catch (e) {
          if (stopped) return;
          setState((s) => ({ data: s.data, error: e as Error, loading: false }));
        }
      }
      if (!stopped && intervalMs > 0) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, generation, intervalMs]);
  return state;
}
