import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { IpSelector } from "../domain/addressMatch.ts";
import { networkCheck, networkRefusal } from "./agentNetworks.ts";
import { BEARER_CHALLENGE, refusal, tokenCheck } from "./auth.ts";
import { readBody, type BodyError } from "./bodyReader.ts";
import { Deadlines, type Deadline } from "./deadlines.ts";
import { bodyRefusal, type Endpoint, type Outcome } from "./endpoint.ts";
import type { Observer } from "./observe.ts";
import { RequestHeaders } from "./requestHeaders.ts";
import { timeoutMessage } from "./timeout.ts";

export interface AgentListenerOptions {
  /** Exact request URL (the route's path, and the path with a trailing slash) → its route. */
  readonly routes: ReadonlyMap<string, Endpoint>;
  /** Required as `Authorization: Bearer <token>` when set. */
  readonly agentToken?: string | undefined;
  /** When set, only connections from these source addresses (403 Forbidden otherwise, before the body is read). */
  readonly agentNetworks?: readonly IpSelector[] | undefined;
  /** Answer RequestTimeout after this long; 0 = never. */
  readonly requestTimeoutMs: number;
  readonly record: Observer["record"];
  /** True once shutdown began: answers carry `Connection: close` so clients move on. */
  readonly shuttingDown?: (() => boolean) | undefined;
  /**
   * Runs once an agent request is handled, before its answer is written. Agent handlers answer
   * synchronously, so a microtask queued by the handler runs only after the answer is on the
   * wire: a worker (--workers) sends here what the agent's next request, on another worker,
   * must find (ReplicaRegistry.sendAgentPath).
   */
  readonly beforeAnswer?: (() => void) | undefined;
}

/** One agent request from its arrival to its answer (and its place among the requests in flight). */
class Exchange implements Deadline {
  deadline = 0;
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  waiting = false;
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: Endpoint,
    readonly started: number,
    readonly contentType: string | undefined,
    readonly accept: string | undefined,
  ) {}
}

/**
 * The HTTP server's request listener. Agents (tens of thousands, every few seconds) are most of
 * the traffic, so their requests are served here, below koa: koa's per-request context, the
 * middleware chain and the router cost more CPU than the route's own work. An exact `/Agent/*`
 * URL with its route's method is answered directly on node's req/res, with everything koa's chain
 * does for it (observe.ts, auth.ts, timeout.ts): the same network check and 403, token check and
 * 401, body limit and 413, timeout, metrics, request log, `x-log-requestid`, `Connection: close`
 * on shutdown.
 * Anything else (a query string, other spellings, other methods: koa answers 405) goes to
 * `next`, the koa application.
 *
 * Per request it allocates the exchange and the body reader's listeners, and nothing that waits:
 * no Promise (agent handlers answer synchronously), no timer (deadlines.ts), no `req.headers`
 * object (requestHeaders.ts).
 */
export function agentListener(options: AgentListenerOptions, next: RequestListener): RequestListener {
  const { routes, record, shuttingDown, beforeAnswer } = options;
  const tokenOk = options.agentToken ? tokenCheck(options.agentToken) : undefined;
  const networkOk = options.agentNetworks ? networkCheck(options.agentNetworks) : undefined;
  const timeoutMs = options.requestTimeoutMs > 0 ? options.requestTimeoutMs : 0;
  const timeoutText = timeoutMessage(timeoutMs);
  const headers = new RequestHeaders();

  const send = (x: Exchange, o: Outcome) => {
    const res = x.res;
    beforeAnswer?.();
    if (shuttingDown?.()) res.setHeader("connection", "close");
    // The flat list form: node reads it without enumerating an object's keys.
    res.writeHead(o.status, ["content-type", o.contentType, "content-length", o.body.length, "x-log-requestid", o.requestId]);
    // After writeHead (which throws on a bad header: then the failure is what is recorded), before
    // the write, where koa's observe records it too.
    record(x.req, x.route.path, (performance.now() - x.started) / 1000, o);
    res.end(o.body);
  };

  /** A bug (every error is mapped to an answer): answered as koa answers one, never an unhandled rejection. */
  const failed = (x: Exchange, e: unknown) => {
    deadlines?.remove(x);
    record(x.req, x.route.path, (performance.now() - x.started) / 1000, undefined, e);
    if (x.res.headersSent) x.res.destroy();
    else x.res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Internal Server Error");
  };

  const finish = (x: Exchange, o: Outcome) => {
    deadlines?.remove(x);
    // Answered RequestTimeout meanwhile: the late answer is dropped (as koa drops it).
    if (x.res.headersSent) return;
    try {
      send(x, o);
    } catch (e) {
      failed(x, e);
    }
  };

  const deadlines = timeoutMs > 0
    ? new Deadlines<Exchange>(timeoutMs, (x) => {
        if (!x.res.headersSent) finish(x, x.route.refuse(x.req, "RequestTimeout", timeoutText));
      })
    : undefined;

  const bodyRead = (x: Exchange, error: BodyError | undefined, body: Buffer | undefined) => {
    try {
      if (error !== undefined) return finish(x, bodyRefusal(x.route, x.req, error));
      const o = x.route.answer(x.req, body as Buffer, x.contentType, x.accept);
      if (o instanceof Promise) o.then((v) => finish(x, v), (e: unknown) => failed(x, e));
      else finish(x, o);
    } catch (e) {
      failed(x, e);
    }
  };

  return (req, res) => {
    const route = routes.get(req.url as string);
    if (route === undefined || req.method !== route.methods[0]) return next(req, res);
    const started = performance.now();
    const h = headers.scan(req.rawHeaders);
    const x = new Exchange(req, res, route, started, h.contentType, h.accept);
    if (networkOk !== undefined && !networkOk(req.socket)) return finish(x, route.refuse(req, "Forbidden", networkRefusal(req.socket)));
    if (tokenOk !== undefined && !tokenOk(h.authorization || undefined)) {
      res.setHeader("www-authenticate", BEARER_CHALLENGE);
      return finish(x, route.refuse(req, "Unauthorized", refusal("agent", h.authorization || undefined)));
    }
    deadlines?.add(x, started);
    readBody(req, route.bodyLimit, h.contentLength, (error, body) => bodyRead(x, error, body));
  };
}
