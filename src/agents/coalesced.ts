/**
 * `fn`, at most one run at a time; a call during a run gets one more run after it, shared by every
 * caller meanwhile: a listing that starts while a flush is out waits for the next one, which
 * covers what it must see, and a hundred listings cause two flushes, not a hundred.
 */
export function coalesced<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let next: Promise<T> | undefined;
  const start = (): Promise<T> => {
    if (running === undefined) return (running = fn().finally(() => (running = undefined)));
    return (next ??= running.then(() => undefined, () => undefined).then(() => {
      next = undefined;
      return start();
    }));
  };
  return start;
}
