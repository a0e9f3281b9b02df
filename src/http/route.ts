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
  readonly onRegister?: (path: string, response: MessageType<unknown>, route: CompiledRoute) => void;
}

export const isJson = (ctx: Context) => JSON_TYPE.test(ctx.req.headers["content-type"] ?? "");
const JSON_TYPE = /^application\/json\b/i;

/** A registered protocol route: what the router calls, and what app.ts's `/Agent/*` fast path calls. */
export interface CompiledRoute {
  readonly path: string;
  readonly methods: readonly string[];
  readonly response: MessageType<unknown>;
  readonly run: (ctx: Context) => Promise<void>;
}

const readBody = (req: Context["req"], limit: number): Promise<Buffer> => getRawBody(req, { limit });
const PROTOBUF = "application/x-protobuf";
const JSON_UTF8 = "application/json; charset=utf-8";

/** Sets what the request log and metrics read (observe.ts), the headers and the encoded body. */
function send(ctx: Context, type: MessageType<unknown>, json: boolean, requestId: string, logId: string, code: keyof typeof HTTP_STATUS, message: string, payload?: Record<string, unknown>): void {
  ctx.status = HTTP_STATUS[code];
  const state = ctx.state;
  state.code = code;
  if (code !== "Accept") state.message = message;
  const res = ctx.res;
  // What ctx.set does, without its checks (koa's ctx.set is a no-op once the headers are sent:
  // a handler still running after a timeout answered).
  if (!res.headersSent) {
    res.setHeader("x-log-requestid", logId || randomUUID());
    // The header koa's `ctx.type = ...` would set, without its per-request MIME lookup.
    res.setHeader("Content-Type", json ? JSON_UTF8 : PROTOBUF);
  }
  // `payload` may carry the reply's own `message`: the explicit fields below win.
  const out: Record<string, unknown> = payload ? Object.assign({}, payload) : {};
  out.response_id = requestId;
  out.code = code;
  out.message = message;
  ctx.body = encodeBody(type, out, json);
}

/**
 * Decode → handle → encode, with errors mapped through the one table; every response carries the
 * route's message type and `x-log-requestid`. No closure is made per request.
 */
export function compileRoute<Req extends { request_id?: string | null }>(spec: RouteSpec<Req>, options: RouteOptions): CompiledRoute {
  const { response, request: requestType } = spec;
  const limit = options.bodyLimit;
  const run = async (ctx: Context): Promise<void> => {
    const json = isJson(ctx);
    let body: Buffer;
    try {
      body = await readBody(ctx.req, limit);
    } catch (e) {
      const err = e as { type?: string; status?: number; message: string };
      if (err.type === "entity.too.large") {
        send(ctx, response, json, "", "", "BadRequest", `Request body is larger than the limit of ${limit} bytes.`);
        ctx.status = 413;
        return;
      }
      send(ctx, response, json, "", "", "BadRequest", `Could not read the request body: ${err.message}`);
      return;
    }
    let request: Req;
    try {
      request = decodeBody(requestType, body, json);
    } catch (e) {
      const what = requestType.getTypeUrl("").slice(1);
      send(ctx, response, json, "", "", "BadRequest", `The request body is not a valid ${json ? "JSON" : "protobuf"} ${what}: ${(e as DecodeError).message}`);
      return;
    }
    // The header identifies the exchange in logs: the client's request_id when it sent one
    // (agents always send one: a UUID is made only when needed, it is not free at 10k req/s).
    const requestId = request.request_id ?? "";
    const logId = requestId || randomUUID();
    ctx.state.requestId = logId;
    try {
      // Agent handlers are synchronous: no extra await (a microtask per request) for them.
      const out = spec.handle(request, ctx);
      const reply = out instanceof Promise ? await out : out;
      send(ctx, response, json, requestId, logId, "Accept", reply.message, reply);
    } catch (e) {
      if (e instanceof DomainError) return send(ctx, response, json, requestId, logId, e.code, e.message);
      options.onError(e, ctx);
      send(ctx, response, json, requestId, logId, "InternalServerError", `Internal error while handling ${spec.path}; the server log has the details (request id ${logId}).`);
    }
  };
  return { path: spec.path, methods: spec.method === "GET" ? ["GET", "POST"] : [spec.method], response, run };
}

/**
 * Registers one protocol route: with and without a trailing slash, and on POST too when it is a
 * GET (browsers cannot send a GET body).
 */
export function addRoute<Req extends { request_id?: string | null }>(router: Router, spec: RouteSpec<Req>, options: RouteOptions): void {
  const route = compileRoute(spec, options);
  // One layer per route: @koa/router is not strict, so `${path}/` matches this layer too (and the
  // router tests every layer's pattern on every request, so half the layers is less work per request).
  router.register(spec.path, route.methods as string[], route.run);
  options.onRegister?.(spec.path, spec.response, route);
}
