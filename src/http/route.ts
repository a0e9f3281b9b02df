import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type Router from "@koa/router";
import type { Context } from "koa";
import getRawBody from "raw-body";
import { DomainError } from "../domain/errors.ts";
import { decodeBody, DecodeError, encodeBody, type MessageType } from "./codec.ts";
import { HTTP_STATUS } from "./errors.ts";

/** What a handler returns: the success message plus the response's payload fields. */
export type Reply = { readonly message: string } & Record<string, unknown>;

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** A protocol code: the key of the one error table. */
export type Code = keyof typeof HTTP_STATUS;

export interface RouteSpec<Req> {
  readonly method: Method;
  readonly path: string;
  readonly request: MessageType<Req>;
  readonly response: MessageType<unknown>;
  readonly handle: (request: Req) => Reply | Promise<Reply>;
}

export interface RouteOptions {
  readonly bodyLimit: number;
  /** An unexpected error of a handler (answered InternalServerError). `requestId` is the x-log-requestid. */
  readonly onError: (error: unknown, route: string, requestId: string) => void;
  /** Told of each route as it is registered (the auth and timeout answers use its message type; app.ts its shortcut). */
  readonly onRegister?: (path: string, response: MessageType<unknown>, route: CompiledRoute) => void;
}

const JSON_TYPE = /^application\/json\b/i;
/** Whether the request's body (and so its answer) is protobuf JSON rather than binary. */
export const isJsonRequest = (req: IncomingMessage) => JSON_TYPE.test(req.headers["content-type"] ?? "");
export const isJson = (ctx: Context) => isJsonRequest(ctx.req);

/**
 * A protocol route's answer, independent of koa: what the response carries (status, headers, body)
 * and what the request log and metrics read (code, message).
 */
export interface Outcome {
  readonly status: number;
  readonly code: Code;
  /** The answer's message when it is not a success (the request log prints it). */
  readonly message: string | undefined;
  /** x-log-requestid: the request's request_id when it can be a header value, else a new UUID. */
  readonly requestId: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** A registered protocol route: what the router calls, and what app.ts's `/Agent/*` shortcut calls. */
export interface CompiledRoute {
  readonly path: string;
  readonly methods: readonly string[];
  readonly response: MessageType<unknown>;
  /** Reads the body, decodes it, calls the handler, encodes its reply or error. Never rejects. */
  readonly respond: (req: IncomingMessage) => Promise<Outcome>;
  /** An answer in this route's message type before (or instead of) the handler: 401, timeout. */
  readonly refuse: (req: IncomingMessage, code: Code, message: string) => Outcome;
  /** `respond` for koa: the outcome applied to the context. */
  readonly run: (ctx: Context) => Promise<void>;
}

const readBody = (req: IncomingMessage, limit: number): Promise<Buffer> => getRawBody(req, { limit });
const PROTOBUF = "application/x-protobuf";
/** What node's http refuses in a header value (its own check, `checkInvalidHeaderChar`). */
const NOT_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;
const JSON_UTF8 = "application/json; charset=utf-8";

/** The encoded answer: `payload` may carry the reply's own `message`; the explicit fields win. */
function outcome(type: MessageType<unknown>, json: boolean, requestId: string, logId: string, code: Code, message: string, payload?: Record<string, unknown>): Outcome {
  const out: Record<string, unknown> = payload ? Object.assign({}, payload) : {};
  out.response_id = requestId;
  out.code = code;
  out.message = message;
  return {
    status: HTTP_STATUS[code],
    code,
    message: code === "Accept" ? undefined : message,
    requestId: logId || randomUUID(),
    contentType: json ? JSON_UTF8 : PROTOBUF,
    body: encodeBody(type, out, json),
  };
}

/** Sets what the request log and metrics read (observe.ts), the headers and the body. */
function apply(ctx: Context, o: Outcome): void {
  ctx.status = o.status;
  const state = ctx.state;
  state.code = o.code;
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
 * Decode → handle → encode, with errors mapped through the one table; every answer carries the
 * route's message type and `x-log-requestid`. No closure is made per request.
 */
export function compileRoute<Req extends { request_id?: string | null }>(spec: RouteSpec<Req>, options: RouteOptions): CompiledRoute {
  const { response, request: requestType, path } = spec;
  const limit = options.bodyLimit;
  const what = requestType.getTypeUrl("").slice(1);
  const respond = async (req: IncomingMessage): Promise<Outcome> => {
    const json = isJsonRequest(req);
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (e) {
      const err = e as { type?: string; message: string };
      if (err.type === "entity.too.large") {
        return { ...outcome(response, json, "", "", "BadRequest", `Request body is larger than the limit of ${limit} bytes.`), status: 413 };
      }
      return outcome(response, json, "", "", "BadRequest", `Could not read the request body: ${err.message}`);
    }
    let request: Req;
    try {
      request = decodeBody(requestType, body, json);
    } catch (e) {
      return outcome(response, json, "", "", "BadRequest", `The request body is not a valid ${json ? "JSON" : "protobuf"} ${what}: ${(e as DecodeError).message}`);
    }
    // The header identifies the exchange in logs: the client's request_id when it sent one
    // (agents always send one: a UUID is made only when needed, it is not free at 10k req/s) and
    // it can be a header value (node throws on anything else, and the answer would be lost).
    const requestId = request.request_id ?? "";
    const logId = requestId && !NOT_HEADER_TEXT.test(requestId) ? requestId : randomUUID();
    try {
      // Agent handlers are synchronous: no extra await (a microtask per request) for them.
      const out = spec.handle(request);
      const reply = out instanceof Promise ? await out : out;
      return outcome(response, json, requestId, logId, "Accept", reply.message, reply);
    } catch (e) {
      if (e instanceof DomainError) return outcome(response, json, requestId, logId, e.code, e.message);
      options.onError(e, path, logId);
      return outcome(response, json, requestId, logId, "InternalServerError", `Internal error while handling ${path}; the server log has the details (request id ${logId}).`);
    }
  };
  const refuse = (req: IncomingMessage, code: Code, message: string) => outcome(response, isJsonRequest(req), "", "", code, message);
  const run = async (ctx: Context): Promise<void> => apply(ctx, await respond(ctx.req));
  return { path, methods: spec.method === "GET" ? ["GET", "POST"] : [spec.method], response, respond, refuse, run };
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
