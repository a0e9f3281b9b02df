import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type Router from "@koa/router";
import type { Context } from "koa";
import getRawBody from "raw-body";
import { DomainError } from "../domain/errors.ts";
import { decodeBody, DecodeError, encodeBody, encodeJsonInSlices, mergeQuery, type MessageType } from "./codec.ts";
import type { BodyError } from "./bodyReader.ts";
import { HTTP_STATUS } from "./errors.ts";

/** What a handler returns: the success message's payload fields (and, for protocols that have one, its `message`). */
export type Reply = { readonly message?: string } & Record<string, unknown>;

/**
 * A reply whose one repeated field is too long to encode in one go without stalling the event
 * loop (ListAgents of 200,000 agents): the protobuf answer is encoded in slices, yielding between
 * them. Concatenated protobuf messages are one message whose repeated fields are appended, so the
 * bytes are what one encode would give.
 */
export const LONG_LIST = Symbol("longList");
export interface LongList {
  readonly field: string;
  readonly items: readonly unknown[];
}
const SLICE = 2000;
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** A protocol-neutral code: the key of the one error table (src/http/errors.ts). */
export type Code = keyof typeof HTTP_STATUS;

/**
 * How one protocol wraps answers: where the request id is echoed, how success and each code are
 * said. The route compiler knows nothing else about a protocol.
 */
export interface Envelope {
  /** The label of metrics and logs: alpha, v1, v2, user. */
  readonly protocol: string;
  /** The request's id as the answer echoes it (a string or bytes; "" when absent). */
  echo(request: unknown): unknown;
  /** The fields of a success answer. */
  ok(echo: unknown, reply: Reply): Record<string, unknown>;
  /** The fields of a refusal with this code; its HTTP status comes from the one table. */
  fail(echo: unknown, code: Code, message: string): Record<string, unknown>;
}

export interface RouteSpec<Req> {
  readonly method: Method;
  readonly path: string;
  readonly request: MessageType<Req>;
  readonly response: MessageType<unknown>;
  readonly envelope: Envelope;
  /** `req` is there for what is not in the body (headers); most handlers ignore it. */
  readonly handle: (request: Req, req: IncomingMessage) => Reply | Promise<Reply>;
  /**
   * Whether the request's fields may also come from the query string (`?config_name=x` or
   * `?configName=x`), for people with curl and browsers. The User API's routes say so; agents'
   * routes never do.
   */
  readonly query?: boolean;
  /** Requests that repeat an agent's last one, answered without decoding them (src/protocols/repeats.ts). */
  readonly repeats?: RepeatCache<Req>;
}

/**
 * What a route remembers of the requests it answered, to answer a repeat without decoding it.
 * `recall` runs before decoding (binary bodies only); `remember` after a success whose reply is
 * frozen (a reply that can be given again as it is).
 */
export interface RepeatCache<Req> {
  /**
   * The reply to `body` when it repeats a remembered request (having recorded what handling it
   * would); its echoed id is then in `echo`, and `logId` is `headerId(echo)` ("" when a UUID is
   * to be made).
   */
  recall(body: Buffer, req: IncomingMessage): Reply | undefined;
  readonly echo: unknown;
  readonly logId: string;
  /** Where the echoed id's bytes are in the body recalled last (field 1's value; -1 when absent). */
  readonly echoStart: number;
  readonly echoEnd: number;
  remember(body: Buffer, request: Req, reply: Reply): void;
}

export interface RouteOptions {
  readonly bodyLimit: number;
  /** An unexpected error of a handler (answered InternalServerError). `requestId` is the x-log-requestid. */
  readonly onError: (error: unknown, route: string, requestId: string) => void;
  /**
   * Set where the registry is a replica that other processes' changes reach later (a worker of
   * --workers): a request for an agent it does not know yet waits for this (the changes sent
   * before it arrived are in) and is handled once more, instead of answering AgentNotExist.
   */
  readonly catchUp?: (() => Promise<void>) | undefined;
}

const JSON_TYPE = /^application\/json\b/i;
const PROTOBUF = "application/x-protobuf";
/** Whether a Content-Type says protobuf JSON rather than binary. */
export const isJsonType = (contentType: string | undefined) => contentType !== undefined && contentType !== PROTOBUF && JSON_TYPE.test(contentType);
/** Whether the request's body is protobuf JSON rather than binary. */
export const isJsonBody = (req: IncomingMessage) => isJsonType(req.headers["content-type"]);

/** The quality an Accept header gives one exact media type (0 when it is not listed). */
function quality(accept: string, type: string): number {
  for (const range of accept.split(",")) {
    const [name = "", ...params] = range.split(";");
    if (name.trim().toLowerCase() !== type) continue;
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined ? 1 : Number(q) || 0;
  }
  return 0;
}

/**
 * Whether the answer is protobuf JSON: the body is JSON, or the Accept header prefers
 * application/json to application/x-protobuf (a GET with no body, or a protobuf body, from curl
 * or a browser's script). Wildcards keep the protocol's binary answer.
 */
export function isJsonRequest(req: IncomingMessage): boolean {
  return isJsonBody(req) || acceptsJson(req);
}

function acceptsJson(req: IncomingMessage): boolean {
  return acceptsJsonType(req.headers.accept);
}

/** Whether an Accept header prefers application/json to application/x-protobuf. */
export function acceptsJsonType(accept: string | undefined): boolean {
  // Agents send no Accept, or */*: one cheap test on the agent path.
  if (accept === undefined || !accept.includes("json")) return false;
  return quality(accept, "application/json") > quality(accept, "application/x-protobuf");
}

/**
 * A protocol route's answer, independent of koa: what the response carries (status, headers, body)
 * and what the request log and metrics read (code, message, protocol).
 */
export interface Outcome {
  readonly status: number;
  readonly code: Code;
  readonly protocol: string;
  /** The answer's message when it is not a success (the request log prints it). */
  readonly message: string | undefined;
  /** x-log-requestid: the request's id when it can be a header value, else a new UUID. */
  readonly requestId: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** A registered protocol route: what koa's router calls, and what the exact-path agent listener calls. */
export interface CompiledRoute {
  readonly path: string;
  readonly methods: readonly string[];
  readonly protocol: string;
  /** Reads the body, decodes it, calls the handler, encodes its reply or error. Never rejects. */
  readonly respond: (req: IncomingMessage) => Promise<Outcome>;
  /** `respond` after the body was read (a shared path reads it once to tell protocols apart). */
  readonly answer: (req: IncomingMessage, body: Buffer, json: boolean) => Promise<Outcome>;
  /**
   * `answer`, synchronous when the handler is (every agent handler but a held v2 heartbeat):
   * no Promise per request. `acceptsJson`: the Accept header's preference when the caller has
   * read it (else it is read from `req.headers`). Never throws, never rejects.
   */
  readonly answerNow: (req: IncomingMessage, body: Buffer, json: boolean, acceptsJson?: boolean) => Outcome | Promise<Outcome>;
  /** answerNow when the request repeats one the route remembers (RouteSpec.repeats); undefined otherwise, having done nothing. */
  readonly answerRepeat: (req: IncomingMessage, body: Buffer, json: boolean, acceptsJson?: boolean) => Outcome | Promise<Outcome> | undefined;
  /** answerNow for a request answerRepeat did not answer: decoded and handled. */
  readonly answerDecoding: (req: IncomingMessage, body: Buffer, json: boolean, acceptsJson?: boolean) => Outcome | Promise<Outcome>;
  /** The largest request body this route reads (413 beyond it). */
  readonly bodyLimit: number;
  /** An answer in this route's message type before (or instead of) the handler: 401, timeout, 413. */
  readonly refuse: (req: IncomingMessage, code: Code, message: string) => Outcome;
  /** `respond` for koa: the outcome applied to the context. */
  readonly run: (ctx: Context) => Promise<void>;
}

const JSON_UTF8 = "application/json; charset=utf-8";
/** A longer request id is not copied into x-log-requestid: proxies and clients cap header sizes. */
export const MAX_HEADER_ID = 128;

/** The request id as x-log-requestid carries it: the client's when it is short header text, else a new UUID. */
export function headerId(echo: unknown): string {
  let text: string | undefined;
  if (typeof echo === "string") text = echo;
  else if (echo instanceof Uint8Array && echo.length > 0 && echo.length <= MAX_HEADER_ID) text = Buffer.from(echo.buffer, echo.byteOffset, echo.length).toString("latin1");
  return text && text.length <= MAX_HEADER_ID && headerText(text) ? text : randomUUID();
}

/** Whether node's http accepts `text` as a header value (its own check, `checkInvalidHeaderChar`: tab, 0x20-0x7e, 0x80-0xff). */
function headerText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || (c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/**
 * The encoded answer in one route's message type. `answered`: the code the wire carries when it
 * differs from `code`, which metrics and the request log read (a Conflict answered as the
 * protocol's nearest code).
 */
export function outcome(type: MessageType<unknown>, envelope: Envelope, json: boolean, echo: unknown, logId: string, code: Code, message: string, reply?: Reply, answered: Code = code): Outcome {
  const fields = code === "Accept" ? envelope.ok(echo, reply ?? {}) : envelope.fail(echo, answered, message);
  return {
    status: HTTP_STATUS[answered],
    code,
    protocol: envelope.protocol,
    message: code === "Accept" ? undefined : message,
    requestId: logId || randomUUID(),
    contentType: json ? JSON_UTF8 : PROTOBUF,
    body: encodeBody(type, fields, json),
  };
}

/**
 * Success answers of replies that do not change, encoded once. A handler that returns a frozen
 * reply (a constant, or one cached with the snapshot: the all-SAME GetConfigList of an applied
 * list, the first v2 heartbeat's configs) promises it never changes; its answer differs from
 * request to request only in the echoed id, which every envelope puts in field 1. So the answer
 * is encoded once without that field (checked: field 1 must carry the echo and come first) and
 * each request's is the id's bytes in front of it, byte for byte what encoding the whole message
 * gives. Per compiled route (the reply's meaning depends on its message type and envelope).
 */
class PreEncoded {
  /** Per reply: the answer without field 1, and whether an empty id is written (protobufjs may skip it); null when not encodable so. */
  private readonly tails = new WeakMap<Reply, { readonly tail: Buffer; readonly emptyWritten: boolean } | null>();
  private readonly empty: unknown;
  private readonly probe: unknown;

  constructor(
    private readonly type: MessageType<unknown>,
    private readonly envelope: Envelope,
  ) {
    this.empty = envelope.echo({});
    this.probe = typeof this.empty === "string" ? "x" : Uint8Array.of(0x78);
  }

  private known(reply: Reply): { readonly tail: Buffer; readonly emptyWritten: boolean } | null {
    let known = this.tails.get(reply);
    if (known === undefined) this.tails.set(reply, (known = this.tailOf(reply)));
    return known;
  }

  /**
   * The answer's body when the echoed id is `wire[start, end)`, field 1's bytes as the request
   * carried them (a repeat's: it was read from them, strictly, so encoding it gives those bytes
   * again); undefined when not encoded this way. One copy of the bytes, nothing looked at.
   */
  fromWire(reply: Reply, wire: Uint8Array, start: number, end: number): Buffer | undefined {
    const known = this.known(reply);
    const n = end - start;
    if (known === null || n <= 0 || n > 127) return undefined;
    const tail = known.tail;
    const out = Buffer.allocUnsafe(2 + n + tail.length);
    out[0] = 0x0a;
    out[1] = n;
    out.set(wire.subarray(start, end), 2);
    out.set(tail, 2 + n);
    return out;
  }

  /** The answer's body, or undefined when this reply or echo is not encoded this way. */
  body(reply: Reply, echo: unknown): Buffer | undefined {
    const known = this.known(reply);
    if (known === null) return undefined;
    const text = typeof echo === "string";
    if (!text && !(echo instanceof Uint8Array)) return undefined;
    const n = (echo as string | Uint8Array).length;
    if (n > 127) return undefined;
    const tail = known.tail;
    if (n === 0 && !known.emptyWritten) return Buffer.from(tail);
    // Bytes are their own wire form.
    if (!text) return this.fromWire(reply, echo as Uint8Array, 0, n);
    const out = Buffer.allocUnsafe(2 + n + tail.length);
    out[0] = 0x0a;
    out[1] = n;
    // ASCII only (one byte per character, the same bytes in UTF-8); else the whole answer is encoded.
    for (let i = 0; i < n; i++) {
      const c = (echo as string).charCodeAt(i);
      if (c > 0x7f) return undefined;
      out[2 + i] = c;
    }
    out.set(tail, 2 + n);
    return out;
  }

  private tailOf(reply: Reply): { tail: Buffer; emptyWritten: boolean } | null {
    const full = encodeBody(this.type, this.envelope.ok(this.empty, reply), false);
    const probed = encodeBody(this.type, this.envelope.ok(this.probe, reply), false);
    const emptyWritten = full[0] === 0x0a && full[1] === 0;
    const tail = Buffer.from(emptyWritten ? full.subarray(2) : full);
    // Field 1 must carry the echo, first, and nothing else may depend on it.
    if (probed.length !== tail.length + 3 || probed[0] !== 0x0a || probed[1] !== 1 || probed[2] !== 0x78 || !probed.subarray(3).equals(tail)) return null;
    return { tail, emptyWritten };
  }
}

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

/** The answer to a body that could not be read (bodyReader.ts), as readRequestBody answers it. */
export function bodyRefusal(route: CompiledRoute, req: IncomingMessage, error: BodyError): Outcome {
  if (error.tooLarge) return { ...route.refuse(req, "BadRequest", `Request body is larger than the limit of ${route.bodyLimit} bytes.`), status: 413 };
  return route.refuse(req, "BadRequest", `Could not read the request body: ${error.message}`);
}

/** Reads a request body within the limit; a refusal in `fail`'s message type otherwise. */
export async function readRequestBody(req: IncomingMessage, limit: number, fail: (code: Code, message: string, status?: number) => Outcome): Promise<Buffer | Outcome> {
  try {
    return await getRawBody(req, { limit });
  } catch (e) {
    const err = e as { type?: string; message: string };
    if (err.type === "entity.too.large") return { ...fail("BadRequest", `Request body is larger than the limit of ${limit} bytes.`), status: 413 };
    return fail("BadRequest", `Could not read the request body: ${err.message}`);
  }
}

/**
 * Decode → handle → encode, with errors mapped through the one table and the protocol's envelope;
 * every answer carries the route's message type and `x-log-requestid`. No closure is made per request.
 */
export function compileRoute<Req>(spec: RouteSpec<Req>, options: RouteOptions): CompiledRoute {
  const { response, request: requestType, path, envelope } = spec;
  const limit = options.bodyLimit;
  const what = requestType.getTypeUrl("").slice(1);
  const repeats = spec.repeats;
  const catchUp = options.catchUp;
  // Read once: these closures are made by every compileRoute call, and share their type feedback,
  // so a property read per request here sees every route's envelope (a megamorphic load).
  const protocol = envelope.protocol;
  const answerNow = (req: IncomingMessage, body: Buffer, jsonBody: boolean, accepts?: boolean): Outcome | Promise<Outcome> =>
    answerRepeat(req, body, jsonBody, accepts) ?? answerDecoding(req, body, jsonBody, accepts);
  const answerDecoding = (req: IncomingMessage, body: Buffer, jsonBody: boolean, accepts?: boolean): Outcome | Promise<Outcome> => {
    const json = jsonBody || (accepts ?? acceptsJson(req));
    let request: Req;
    try {
      request = decodeBody(requestType, body, jsonBody);
    } catch (e) {
      return outcome(response, envelope, json, "", "", "BadRequest", `The request body is not a valid ${jsonBody ? "JSON" : "protobuf"} ${what}: ${(e as DecodeError).message}`);
    }
    const search = spec.query ? querySearch(req.url) : undefined;
    if (search) {
      try {
        request = mergeQuery(requestType, request, search);
      } catch (e) {
        return outcome(response, envelope, json, "", "", "BadRequest", `The query string does not fit ${what}: ${(e as DecodeError).message}`);
      }
    }
    // The header identifies the exchange in logs: the client's request id when it sent one
    // (agents always send one: a UUID is made only when needed, it is not free at 10k req/s).
    const echo = envelope.echo(request);
    const logId = headerId(echo);
    return handled(req, body, jsonBody, json, request, echo, logId, catchUp);
  };
  /** The handler's answer; an agent unknown here is asked for once more after `again` (RouteOptions.catchUp). */
  const handled = (req: IncomingMessage, body: Buffer, jsonBody: boolean, json: boolean, request: Req, echo: unknown, logId: string, again: (() => Promise<void>) | undefined): Outcome | Promise<Outcome> => {
    let out: Reply | Promise<Reply>;
    try {
      out = spec.handle(request, req);
    } catch (e) {
      if (again !== undefined && e instanceof DomainError && e.code === "AgentNotExist") return again().then(() => handled(req, body, jsonBody, json, request, echo, logId, undefined));
      return failure(e, json, echo, logId);
    }
    // Agent handlers are synchronous: no Promise, no microtask for them.
    if (out instanceof Promise) return out.then((reply) => success(reply, json, echo, logId), (e: unknown) => failure(e, json, echo, logId));
    if (repeats !== undefined && !jsonBody && Object.isFrozen(out)) {
      try {
        repeats.remember(body, request, out);
      } catch (e) {
        return failure(e, json, echo, logId);
      }
    }
    return success(out, json, echo, logId);
  };
  const answerRepeat = (req: IncomingMessage, body: Buffer, jsonBody: boolean, accepts?: boolean): Outcome | Promise<Outcome> | undefined => {
    if (repeats === undefined || jsonBody) return undefined;
    const again = repeats.recall(body, req);
    if (again === undefined) return undefined;
    const json = accepts ?? acceptsJson(req);
    const wire = json ? undefined : preEncoded.fromWire(again, body, repeats.echoStart, repeats.echoEnd);
    if (wire !== undefined) return accepted(wire, repeats.logId);
    return success(again, json, repeats.echo, repeats.logId, true);
  };
  const preEncoded = new PreEncoded(response, envelope);
  /** A success whose body is pre-encoded. */
  const accepted = (body: Buffer, logId: string): Outcome => ({ status: 200, code: "Accept", protocol, message: undefined, requestId: logId || randomUUID(), contentType: PROTOBUF, body });
  /** `frozen`: the reply is known to be frozen (a remembered one), so it is not asked again. */
  const success = (reply: Reply, json: boolean, echo: unknown, logId: string, frozen = false): Outcome | Promise<Outcome> => {
    try {
      if (!json && (frozen || Object.isFrozen(reply))) {
        const body = preEncoded.body(reply, echo);
        if (body !== undefined) return accepted(body, logId);
      }
      const long = (reply as { [LONG_LIST]?: LongList })[LONG_LIST];
      if (long === undefined) return outcome(response, envelope, json, echo, logId, "Accept", reply.message ?? "", reply);
      return longAnswer(reply, long, json, echo, logId).catch((e: unknown) => failure(e, json, echo, logId));
    } catch (e) {
      return failure(e, json, echo, logId);
    }
  };
  const longAnswer = async (reply: Reply, long: LongList, json: boolean, echo: unknown, logId: string): Promise<Outcome> => {
    const head = outcome(response, envelope, json, echo, logId, "Accept", reply.message ?? "", reply);
    if (json) return { ...head, body: await encodeJsonInSlices(response, envelope.ok(echo, reply), long.field, long.items, SLICE, yieldToEventLoop) };
    const parts = [head.body];
    for (let i = 0; i < long.items.length; i += SLICE) {
      if (i > 0) await yieldToEventLoop();
      parts.push(encodeBody(response, { [long.field]: long.items.slice(i, i + SLICE) }, false));
    }
    return { ...head, body: Buffer.concat(parts) };
  };
  const failure = (e: unknown, json: boolean, echo: unknown, logId: string): Outcome => {
    // An InternalServerError a DomainError carries (git's stderr, a path) is logged, not shown.
    if (e instanceof DomainError && e.code !== "InternalServerError") {
      // Protocols know no Conflict: the reference server's code where it has one, else ServerBusy.
      return outcome(response, envelope, json, echo, logId, e.code, e.message, undefined, e.code === "Conflict" ? (e.protocolCode ?? "ServerBusy") : e.code);
    }
    options.onError(e, path, logId);
    return outcome(response, envelope, json, echo, logId, "InternalServerError", `Internal error while handling ${path}; the server log has the details (request id ${logId}).`);
  };
  const answer = async (req: IncomingMessage, body: Buffer, jsonBody: boolean): Promise<Outcome> => answerNow(req, body, jsonBody);
  const refuse = (req: IncomingMessage, code: Code, message: string) => outcome(response, envelope, isJsonRequest(req), "", "", code, message);
  const respond = async (req: IncomingMessage): Promise<Outcome> => {
    const body = await readRequestBody(req, limit, (code, message) => outcome(response, envelope, isJsonRequest(req), "", "", code, message));
    return Buffer.isBuffer(body) ? answer(req, body, isJsonBody(req)) : body;
  };
  const run = async (ctx: Context): Promise<void> => applyOutcome(ctx, await respond(ctx.req));
  // Every route also answers POST: a browser form or `curl -d` cannot send a GET body, and some
  // clients cannot send PUT or DELETE at all.
  return { path, methods: spec.method === "POST" ? ["POST"] : [spec.method, "POST"], protocol: envelope.protocol, respond, answer, answerNow, answerRepeat, answerDecoding, bodyLimit: limit, refuse, run };
}

/** The query string of a request URL, without its "?"; undefined when there is none. */
function querySearch(url: string | undefined): string | undefined {
  const at = url?.indexOf("?") ?? -1;
  return at >= 0 && at < (url as string).length - 1 ? (url as string).slice(at + 1) : undefined;
}

/**
 * One path that two protocols share (alpha and v1 `/Agent/HeartBeat`, v1 and v2
 * `/Agent/FetchPipelineConfig`): the body is read once and `pick` decides from the wire which
 * protocol's route answers. Refusals before that (401, timeout, 413) are in the first route's type.
 */
export function compileShared(routes: readonly CompiledRoute[], pick: (body: Buffer, json: boolean) => number | string, options: RouteOptions): CompiledRoute {
  const first = routes[0] as CompiledRoute;
  // The route whose memory answered last is asked first: a fleet's requests on one path come in
  // runs of one protocol, and asking another route first costs a layout read and a lookup.
  let lastHit = 0;
  const answerRepeat = (req: IncomingMessage, body: Buffer, json: boolean, accepts?: boolean): Outcome | Promise<Outcome> | undefined => {
    const again = (routes[lastHit] as CompiledRoute).answerRepeat(req, body, json, accepts);
    if (again !== undefined) return again;
    for (let i = 0; i < routes.length; i++) {
      if (i === lastHit) continue;
      const other = (routes[i] as CompiledRoute).answerRepeat(req, body, json, accepts);
      if (other !== undefined) {
        lastHit = i;
        return other;
      }
    }
    return undefined;
  };
  const answerNow = (req: IncomingMessage, body: Buffer, json: boolean, accepts?: boolean): Outcome | Promise<Outcome> => {
    // A repeat is the bytes of a request this path answered before but for the request id and
    // the agent id (strings in every protocol sharing a path, which detection reads only as
    // strings): detection would choose the same route again, so the routes' memories are asked
    // first, and only a request none remembers is read to choose.
    return answerRepeat(req, body, json, accepts) ?? answerDecoding(req, body, json, accepts);
  };
  const answerDecoding = (req: IncomingMessage, body: Buffer, json: boolean, accepts?: boolean): Outcome | Promise<Outcome> => {
    const chosen = pick(body, json);
    if (typeof chosen === "string") return first.refuse(req, "BadRequest", chosen);
    return (routes[chosen] ?? first).answerDecoding(req, body, json, accepts);
  };
  const answer = async (req: IncomingMessage, body: Buffer, json: boolean): Promise<Outcome> => answerNow(req, body, json);
  const respond = async (req: IncomingMessage): Promise<Outcome> => {
    const body = await readRequestBody(req, options.bodyLimit, (code, message) => first.refuse(req, code, message));
    return Buffer.isBuffer(body) ? answer(req, body, isJsonBody(req)) : body;
  };
  const run = async (ctx: Context): Promise<void> => applyOutcome(ctx, await respond(ctx.req));
  return { path: first.path, methods: first.methods, protocol: routes.map((r) => r.protocol).join("|"), respond, answer, answerNow, answerRepeat, answerDecoding, bodyLimit: options.bodyLimit, refuse: first.refuse, run };
}

/**
 * Registers a compiled route on koa's router: one layer, matching the path with and without a
 * trailing slash (the router is not strict), on its methods (its own, and POST).
 */
export function registerRoute(router: Router, route: CompiledRoute): void {
  router.register(route.path, route.methods as string[], route.run);
}
