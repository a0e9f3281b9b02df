import type { Context, Middleware, Next } from "koa";
import { answer, type ResponseTypes } from "./answer.ts";

const EXPIRED = Symbol("expired");

/**
 * Answers RequestTimeout (HTTP 500, the protocol's code for it) when a request is not answered
 * within `ms`. The handler is not cancelled: a write that was already committing still commits,
 * so for a write a timeout means "outcome unknown, read before retrying".
 */
export function timeout(ms: number, responses: ResponseTypes): Middleware {
  if (!(ms > 0)) return (_ctx: Context, next: Next) => next();
  return async (ctx: Context, next: Next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof EXPIRED>((resolve) => {
      timer = setTimeout(resolve, ms, EXPIRED);
    });
    try {
      if ((await Promise.race([next(), expired])) === EXPIRED) {
        ctx.state.timedOut = true;
        answer(ctx, responses, "RequestTimeout", `The request was not answered within ${ms} ms. If it was a write, it may still be committed: read the current state before retrying.`);
      }
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The same for app.ts's `/Agent/*` fast path: `work` is the route's promise; the result settles
 * with it, or answers RequestTimeout after `ms`. Undefined when there is no timeout.
 */
export function expiry(ms: number, responses: ResponseTypes): ((ctx: Context, work: Promise<void>) => Promise<void>) | undefined {
  if (!(ms > 0)) return undefined;
  const text = `The request was not answered within ${ms} ms. If it was a write, it may still be committed: read the current state before retrying.`;
  return (ctx, work) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ctx.state.timedOut = true;
      answer(ctx, responses, "RequestTimeout", text);
      resolve();
    }, ms);
    work.then(() => {
      clearTimeout(timer);
      resolve();
    }, (e: unknown) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
