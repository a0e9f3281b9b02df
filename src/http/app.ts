import type { RequestListener } from "node:http";
import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import { addAgentRoutes, type AgentApi } from "./agentRoutes.ts";
import type { ResponseTypes } from "./answer.ts";
import { agentListener } from "./agentListener.ts";
import { auth, type AuthOptions } from "./auth.ts";
import type { MessageType } from "./codec.ts";
import { observer } from "./observe.ts";
import type { CompiledRoute, RouteOptions } from "./route.ts";
import { timeout } from "./timeout.ts";
import { addUserRoutes, type UserApi } from "./userRoutes.ts";

export interface AppOptions {
  readonly bodyLimit: number;
  readonly logger: Logger;
  readonly metrics?: Metrics | undefined;
  /** Bearer tokens for /User/* (+ /api/*, /status) and /Agent/*. */
  readonly auth?: AuthOptions | undefined;
  /** Answer RequestTimeout after this long; 0 or absent = never. */
  readonly requestTimeoutMs?: number | undefined;
  readonly shuttingDown?: (() => boolean) | undefined;
}

/**
 * The server's request listener: app.ts's koa application behind agentListener.ts's shortcut.
 * Koa's middleware, outermost first: observe (metrics, request log, request id) → auth (bearer
 * tokens) → timeout → protocol routes → extra routers (health, status, webhook…).
 *
 * Agents' requests (an exact `/Agent/*` URL with its route's method) never reach koa: the
 * shortcut serves them with the same compiled routes and the same observation, token check and
 * timeout. Other spellings of those paths still reach the same routes through koa's router.
 */
export function createApp(api: UserApi & AgentApi, options: AppOptions, extra: Router[] = []): RequestListener {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const responses = new Map<string, MessageType<unknown>>();
  const agentRoutes = new Map<string, CompiledRoute>();
  const routeOptions: RouteOptions = {
    bodyLimit: options.bodyLimit,
    onError: (error, route, requestId) => options.logger.error({ err: error, route, requestId }, "request failed"),
    onRegister: (path, response, route) => {
      responses.set(path, response);
      if (path.startsWith("/Agent/") && route.methods.length === 1) for (const p of [path, `${path}/`]) agentRoutes.set(p, route);
    },
  };
  const router = new Router();
  addUserRoutes(router, api, routeOptions);
  addAgentRoutes(router, api, routeOptions);
  const known: ResponseTypes = responses;
  const observation = observer({ logger: options.logger, metrics: options.metrics, shuttingDown: options.shuttingDown });
  app.use(observation.middleware);
  app.use(auth(options.auth ?? {}, known));
  app.use(timeout(options.requestTimeoutMs ?? 0, known));
  app.use(router.routes());
  app.use(router.allowedMethods());
  for (const r of extra) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  app.on("error", (err: Error) => options.logger.warn({ err }, "connection error"));
  return agentListener({
    routes: agentRoutes,
    agentToken: options.auth?.agentToken,
    requestTimeoutMs: options.requestTimeoutMs ?? 0,
    record: observation.record,
    shuttingDown: options.shuttingDown,
  }, app.callback());
}
