import { randomUUID } from "node:crypto";
import type Router from "@koa/router";
import type { Context } from "koa";
import getRawBody from "raw-body";
import { DomainError } from "../domain/errors.ts";
import { decodeBody, DecodeError, encodeBody, type MessageType } from "./codec.ts";
import { HTTP_STATUS } from "./errors.ts";

/** What a handler returns: the success message plus the response's payload fields. */
export type Reply = { readonly message: string } & Record<string, unknown>;

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface RouteSpec<Req> {
  readonly method: Method;
  readonly path: string;
  readonly request: MessageType<Req>;
  readonly response: MessageType<unknown>;
  readonly handle: (request: Req, ctx: Context) => Reply | Promise<Reply>;
}

export interface RouteOptions {
  readonly bodyLimit: number;
  readonly onError: (error: unknown, ctx: Context) => void;
  /** Told of each route as it is registered (the auth and timeout middleware answer in its message type). */
  readonly onRegister?: (path: string, response: MessageType<unknown>) => void;
}

export const isJson = (ctx: Context) => /^application\/json\b/i.test(ctx.get("content-type"));

/**
 * Registers one protocol route: with and without a trailing slash, and on POST too when it is a
 * GET (browsers cannot send a GET body). Decode → handle → encode, with errors mapped through
 * the one table; every response carries the route's message type and `x-log-requestid`.
 */
export function addRoute<Req extends { request_id?: string | null }>(router: Router, spec: RouteSpec<Req>, options: RouteOptions): void {
  const methods = spec.method === "GET" ? ["GET", "POST"] : [spec.method];
  const handler = async (ctx: Context) => {
    const json = isJson(ctx);
    let requestId = "";
    // The header identifies the exchange in logs: the client's request_id when it sent one
    // (agents always send one: a UUID is made only when needed, it is not free at 10k req/s).
    let logId = "";
    const send = (code: keyof typeof HTTP_STATUS, message: string, payload: Record<string, unknown> = {}) => {
      ctx.status = HTTP_STATUS[code];
      // For the request log and metrics (observe.ts).
      ctx.state.code = code;
      if (code !== "Accept") ctx.state.message = message;
      ctx.set("x-log-requestid", logId || (logId = randomUUID()));
      // The header koa's `ctx.type = ...` would set, without its per-request MIME lookup.
      ctx.set("Content-Type", json ? "application/json; charset=utf-8" : "application/x-protobuf");
      // `payload` may carry the reply's own `message`: the explicit fields below win.
      ctx.body = encodeBody(spec.response, { ...payload, response_id: requestId, code, message }, json);
    };
    let body: Buffer;
    try {
      body = await getRawBody(ctx.req, { limit: options.bodyLimit });
    } catch (e) {
      const err = e as { type?: string; status?: number; message: string };
      if (err.type === "entity.too.large") {
        send("BadRequest", `Request body is larger than the limit of ${options.bodyLimit} bytes.`);
        ctx.status = 413;
        return;
      }
      send("BadRequest", `Could not read the request body: ${err.message}`);
      return;
    }
    let request: Req;
    try {
      request = decodeBody(spec.request, body, json);
    } catch (e) {
      const what = spec.request.getTypeUrl("").slice(1);
      send("BadRequest", `The request body is not a valid ${json ? "JSON" : "protobuf"} ${what}: ${(e as DecodeError).message}`);
      return;
    }
    requestId = request.request_id ?? "";
    logId = requestId || randomUUID();
    ctx.state.requestId = logId;
    try {
      // Agent handlers are synchronous: no extra await (a microtask per request) for them.
      const out = spec.handle(request, ctx);
      const reply = out instanceof Promise ? await out : out;
      send("Accept", reply.message, reply);
    } catch (e) {
      if (e instanceof DomainError) return send(e.code, e.message);
      options.onError(e, ctx);
      send("InternalServerError", `Internal error while handling ${spec.path}; the server log has the details (request id ${logId}).`);
    }
  };
  // One layer per route: @koa/router is not strict, so `${path}/` matches this layer too (and the
  // router tests every layer's pattern on every request, so half the layers is less work per request).
  router.register(spec.path, methods, handler);
  options.onRegister?.(spec.path, spec.response);
}
