import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Context, Middleware, Next } from "koa";
import type { Level, Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import type { Outcome } from "./endpoint.ts";

export interface ObserveOptions {
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /** True once shutdown began: answers carry `Connection: close` so clients move on. */
  readonly shuttingDown?: (() => boolean) | undefined;
}

const AGENT_PATH = /^\/Agent(\/|$)/;
/** The protocol label of requests that are not protocol messages (/status, /metrics, /api/…). */
const NO_PROTOCOL = "none";
const USER_WRITE = /^\/User\/(Create|Update|Delete|Apply|Remove)/;
const PROBE = /^\/(healthz|readyz|metrics)$/;
const STATUS_TEXT = new Map<number, string>();
const statusText = (status: number) => {
  let s = STATUS_TEXT.get(status);
  if (s === undefined) STATUS_TEXT.set(status, (s = String(status)));
  return s;
};

export interface Observer {
  /** The outermost middleware. */
  readonly middleware: Middleware;
  /**
   * What the middleware does once a request is answered, for app.ts's `/Agent/*` shortcut (no koa
   * context there): metrics and the request log. `route` is the metrics label (the route's path);
   * without an outcome the request failed (`failure`) and was answered HTTP 500.
   */
  record(req: IncomingMessage, route: string, seconds: number, outcome: Outcome | undefined, failure?: unknown): void;
}

/**
 * The outermost middleware: one metrics observation and at most one log line per request.
 * Agents heartbeat and poll every few seconds, so their requests log at debug only; User API
 * writes log at info; anything answered 5xx logs at error with its message or cause, except a
 * probe's 503 (it says so in its body, once per probe interval). Labels are the route's pattern
 * and the protocol code: existing strings, nothing built per request.
 */
export function observer(options: ObserveOptions): Observer {
  const { logger, metrics, shuttingDown } = options;
  const labels = new Map<string, string>();
  const routeLabel = (matched: string) => {
    let l = labels.get(matched);
    if (l === undefined) labels.set(matched, (l = matched.length > 1 && matched.endsWith("/") ? matched.slice(0, -1) : matched));
    return l;
  };
  const log = (level: Level, requestId: unknown, method: string | undefined, path: string | undefined, route: string, protocol: string, status: number, code: string, seconds: number, message: unknown, failure: unknown, token?: unknown) => {
    logger[level]({
      requestId,
      method,
      path,
      route,
      protocol,
      status,
      code,
      ms: Math.round(seconds * 10_000) / 10,
      ...(message ? { message } : {}),
      // The user token's name (auth.ts): who asked, beside the commit's author.
      ...(token ? { token } : {}),
      ...(failure ? { err: failure } : {}),
    }, "request");
  };
  const done = (ctx: Context, route: string, started: number, failure: unknown, agent: boolean) => {
    const seconds = (performance.now() - started) / 1000;
    const state = ctx.state;
    const status = failure ? ((failure as { status?: number }).status ?? 500) : ctx.status;
    const code = (state.code as string | undefined) ?? statusText(status);
    const protocol = (state.protocol as string | undefined) ?? NO_PROTOCOL;
    metrics?.request(route, code, seconds, protocol);
    if (shuttingDown?.()) ctx.set("connection", "close");
    if (!ctx.res.getHeader("x-log-requestid")) ctx.set("x-log-requestid", (state.requestId as string | undefined) ?? randomUUID());
    const level = levelOf(route, status, code, failure, agent);
    // state.err: what a JSON route caught and did not show the client (jsonRoute.ts).
    if (logger.isLevelEnabled(level)) log(level, state.requestId ?? ctx.response.get("x-log-requestid"), ctx.method, ctx.path, route, protocol, status, code, seconds, state.message, failure ?? state.err, state.token);
  };
  const record = (req: IncomingMessage, route: string, seconds: number, outcome: Outcome | undefined, failure?: unknown) => {
    const status = outcome ? outcome.status : 500;
    const code = outcome ? outcome.code : statusText(status);
    const protocol = outcome ? outcome.protocol : NO_PROTOCOL;
    metrics?.request(route, code, seconds, protocol);
    // levelOf for an agent route (never a probe), without its regular expressions.
    const level: Level = failure || status >= 500 ? "error" : "debug";
    if (logger.isLevelEnabled(level)) log(level, outcome?.requestId, req.method, req.url, route, protocol, status, code, seconds, outcome?.message, failure);
  };
  const middleware = async (ctx: Context, next: Next) => {
    const started = performance.now();
    let failure: unknown;
    try {
      await next();
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      const matched = (ctx.state.route as string | undefined) ?? (ctx as { _matchedRoute?: unknown })._matchedRoute;
      done(ctx, typeof matched === "string" ? routeLabel(matched) : "unmatched", started, failure, AGENT_PATH.test(ctx.path));
    }
  };
  return { middleware, record };
}

/**
 * Agents' requests and probes log at debug (they are most of the traffic), User API writes and
 * refusals at info, failures at error. A Conflict is the user's to resolve, whatever status its
 * protocol answers it with (the alpha User API's 500 for deleting an applied config): info.
 */
function levelOf(route: string, status: number, code: string, failure: unknown, agent: boolean): Level {
  if (failure) return "error";
  if (PROBE.test(route)) return "debug";
  if (code === "Conflict") return "info";
  if (status >= 500) return "error";
  if (agent) return "debug";
  // Refusals of who is asking (no token, a role short, another site's page) are worth a line.
  return USER_WRITE.test(route) || status === 401 || status === 403 ? "info" : "debug";
}
