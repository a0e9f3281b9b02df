import type { RequestListener } from "node:http";
import Router from "@koa/router";
import Koa, { type Middleware } from "koa";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import { agentListener } from "./agentListener.ts";
import { AGENT_PATH, auth, type AuthOptions } from "./auth.ts";
import { browserGuard, type BrowserGuardOptions } from "./browserGuard.ts";
import { conditionalGet } from "./conditionalGet.ts";
import { observer } from "./observe.ts";
import type { Endpoint } from "./endpoint.ts";
import { registerRoute } from "./koaRoute.ts";
import { timeout } from "./timeout.ts";

export interface AppOptions {
  readonly bodyLimit: number;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /** Bearer tokens for /User/* (+ /api/*, /status) and /Agent/*. */
  readonly auth?: AuthOptions | undefined;
  /** Answer RequestTimeout after this long; 0 or absent = never. */
  readonly requestTimeoutMs?: number | undefined;
  readonly shuttingDown?: (() => boolean) | undefined;
  /** Run after the token check, around everything else (a primary of workers waits there for them to serve a commit made meanwhile). */
  readonly middleware?: readonly Middleware[] | undefined;
  /** The Host names served and the Origins trusted (browserGuard.ts); absent: loopback and IP addresses only. */
  readonly browser?: BrowserGuardOptions | undefined;
  /** Requests outside `/Agent/` go here instead of koa (a worker hands them to the primary). */
  readonly forward?: RequestListener | undefined;
  /** See AgentListenerOptions.beforeAnswer. */
  readonly beforeAnswer?: (() => void) | undefined;
}

/**
 * The server's request listener: a koa application behind agentListener.ts's exact-path listener.
 * `routes` are the message routes (agent protocols, User API), compiled by the caller
 * (src/protocols/compileRoutes.ts). Koa's middleware, outermost first: observe (metrics, request
 * log, request id) → browser guard (Host, Origin, Content-Type, nosniff) → auth (bearer tokens,
 * roles) → timeout → ETags on JSON reads → message routes → extra routers (health, status,
 * webhook, console…).
 *
 * Agents' requests (an exact `/Agent/*` URL with its route's method) never reach koa: the
 * listener serves them with the same compiled routes and the same observation, token check and
 * timeout. A query string or another method reaches the same routes through koa's router, which
 * matches paths exactly (case included: `/Agent/Heartbeat` is v2, `/Agent/HeartBeat` alpha or v1).
 */
export function createApp(routes: readonly Endpoint[], options: AppOptions, extra: Router[] = []): RequestListener {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const router = new Router({ sensitive: true });
  const responses = new Map<string, Endpoint>();
  const agentRoutes = new Map<string, Endpoint>();
  for (const route of routes) {
    registerRoute(router, route);
    responses.set(route.path, route);
    if (AGENT_PATH.test(route.path) && route.methods.length === 1) for (const p of [route.path, `${route.path}/`]) agentRoutes.set(p, route);
  }
  const observation = observer({ logger: options.logger, metrics: options.metrics, shuttingDown: options.shuttingDown });
  app.use(observation.middleware);
  app.use(browserGuard(options.browser ?? { hosts: [], origins: [] }, responses));
  app.use(auth(options.auth ?? {}, responses));
  for (const m of options.middleware ?? []) app.use(m);
  app.use(timeout(options.requestTimeoutMs ?? 0, responses));
  app.use(conditionalGet());
  app.use(router.routes());
  app.use(router.allowedMethods());
  for (const r of extra) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  app.on("error", (err: Error) => options.logger.warn({ err }, "connection error"));
  const koa = app.callback();
  const forward = options.forward;
  return agentListener({
    routes: agentRoutes,
    agentToken: options.auth?.agentToken,
    agentNetworks: options.auth?.agentNetworks,
    requestTimeoutMs: options.requestTimeoutMs ?? 0,
    record: observation.record,
    shuttingDown: options.shuttingDown,
    beforeAnswer: options.beforeAnswer,
  }, forward === undefined ? koa : (req, res) => ((req.url as string).startsWith("/Agent/") || AGENT_PATH.test(req.url as string) ? koa(req, res) : forward(req, res)));
}
