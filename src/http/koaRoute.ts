import type Router from "@koa/router";
import type { Context } from "koa";
import { readBody, type BodyError } from "./bodyReader.ts";
import { bodyRefusal, type Endpoint, type Outcome } from "./endpoint.ts";

/** Sets what the request log and metrics read (observe.ts), the headers and the body. */
export function applyOutcome(ctx: Context, o: Outcome): void {
  ctx.status = o.status;
  const state = ctx.state;
  state.code = o.code;
  state.protocol = o.protocol;
  state.requestId = o.requestId;
  if (o.message !== undefined) state.message = o.message;
  const res = ctx.res;
  // What ctx.set does, without its checks (koa's ctx.set is a no-op once the headers are sent:
  // a handler still running after a timeout answered).
  if (!res.headersSent) {
    res.setHeader("x-log-requestid", o.requestId);
    // The header koa's `ctx.type = ...` would set, without its per-request MIME lookup.
    res.setHeader("Content-Type", o.contentType);
  }
  ctx.body = o.body;
}

/**
 * Registers an endpoint on koa's router: one layer, matching the path with and without a
 * trailing slash (the router is not strict), on its methods. The body is read by the same
 * reader as agentListener.ts's (the same limit and refusals).
 */
export function registerRoute(router: Router, endpoint: Endpoint): void {
  const run = async (ctx: Context): Promise<void> => {
    const req = ctx.req;
    const read = await new Promise<{ error: BodyError | undefined; body: Buffer | undefined }>((resolve) =>
      readBody(req, endpoint.bodyLimit, req.headers["content-length"], (error, body) => resolve({ error, body })),
    );
    applyOutcome(ctx, read.error !== undefined ? bodyRefusal(endpoint, req, read.error) : await endpoint.answer(req, read.body as Buffer, req.headers["content-type"], req.headers.accept));
  };
  router.register(endpoint.path, endpoint.methods as string[], run);
}
