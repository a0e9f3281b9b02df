import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { BEARER_CHALLENGE, refusal, tokenCheck } from "./auth.ts";
import type { Observer } from "./observe.ts";
import type { CompiledRoute, Outcome } from "./route.ts";
import { timeoutMessage } from "./timeout.ts";

export interface AgentListenerOptions {
  /** Exact request URL (the route's path, and the path with a trailing slash) → its route. */
  readonly routes: ReadonlyMap<string, CompiledRoute>;
  /** Required as `Authorization: Bearer <token>` when set. */
  readonly agentToken?: string | undefined;
  /** Answer RequestTimeout after this long; 0 = never. */
  readonly requestTimeoutMs: number;
  readonly record: Observer["record"];
  /** True once shutdown began: answers carry `Connection: close` so clients move on. */
  readonly shuttingDown?: (() => boolean) | undefined;
}

/**
 * The HTTP server's request listener. Agents (tens of thousands, every few seconds) are most of
 * the traffic, so their requests are served here, below koa: koa's per-request context, the
 * middleware chain and the router cost more CPU than the route's own work. An exact `/Agent/*`
 * URL with its route's method is answered directly on node's req/res, with everything koa's chain
 * does for it (observe.ts, auth.ts, timeout.ts): the same token check and 401, timeout, metrics,
 * request log, `x-log-requestid`, `Connection: close` on shutdown. Anything else (a query string,
 * other spellings, other methods: koa answers 405) goes to `next`, the koa application.
 *
 * No closure is made per request: the timer gets its state as arguments.
 */
export function agentListener(options: AgentListenerOptions, next: RequestListener): RequestListener {
  const { routes, record, shuttingDown } = options;
  const tokenOk = options.agentToken ? tokenCheck(options.agentToken) : undefined;
  const timeoutMs = options.requestTimeoutMs > 0 ? options.requestTimeoutMs : 0;
  const timeoutText = timeoutMessage(timeoutMs);

  const send = (req: IncomingMessage, res: ServerResponse, route: CompiledRoute, started: number, o: Outcome) => {
    if (shuttingDown?.()) res.setHeader("connection", "close");
    res.writeHead(o.status, { "content-type": o.contentType, "content-length": o.body.length, "x-log-requestid": o.requestId });
    // After writeHead (which throws on a bad header: then the failure is what is recorded), before
    // the write, where koa's observe records it too.
    record(req, route.path, (performance.now() - started) / 1000, o);
    res.end(o.body);
  };

  const expire = (req: IncomingMessage, res: ServerResponse, route: CompiledRoute, started: number) => {
    if (!res.headersSent) send(req, res, route, started, route.refuse(req, "RequestTimeout", timeoutText));
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, route: CompiledRoute) => {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (tokenOk !== undefined) {
        const authorization = req.headers.authorization || undefined;
        if (!tokenOk(authorization)) {
          res.setHeader("www-authenticate", BEARER_CHALLENGE);
          return send(req, res, route, started, route.refuse(req, "Unauthorized", refusal("agent", authorization)));
        }
      }
      if (timeoutMs > 0) timer = setTimeout(expire, timeoutMs, req, res, route, started);
      const o = await route.respond(req);
      clearTimeout(timer);
      // Answered RequestTimeout meanwhile: the late answer is dropped (as koa drops it).
      if (!res.headersSent) send(req, res, route, started, o);
    } catch (e) {
      // `respond` maps every error to an answer, so this is a bug: answered as koa answers one,
      // and never left as an unhandled rejection (that would stop the process).
      clearTimeout(timer);
      record(req, route.path, (performance.now() - started) / 1000, undefined, e);
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Internal Server Error");
    }
  };

  return (req, res) => {
    const route = routes.get(req.url as string);
    if (route === undefined || req.method !== route.methods[0]) next(req, res);
    else void serve(req, res, route);
  };
}
