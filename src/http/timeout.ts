import type { Context, Middleware, Next } from "koa";
import { answerCode, type EndpointsByPath } from "./codeAnswer.ts";

const EXPIRED = Symbol("expired");

/**
 * Answers RequestTimeout (HTTP 500, the protocol's code for it) when a request is not answered
 * within `ms`. The handler is not cancelled: a write that was already committing still commits,
 * so for a write a timeout means "outcome unknown, read before retrying".
 */
export function timeout(ms: number, responses: EndpointsByPath): Middleware {
  if (!(ms > 0)) return (_ctx: Context, next: Next) => next();
  const text = timeoutMessage(ms);
  return async (ctx: Context, next: Next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof EXPIRED>((resolve) => {
      timer = setTimeout(resolve, ms, EXPIRED);
    });
    try {
      if ((await Promise.race([next(), expired])) === EXPIRED) {
        answerCode(ctx, responses, "RequestTimeout", text);
      }
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The message of a RequestTimeout answer; also app.ts's `/Agent/*` shortcut answers it. */
export function timeoutMessage(ms: number): string {
  return `The request was not answered within ${ms} ms. If it was a write, it may still be committed: read the current state before retrying.`;
}
