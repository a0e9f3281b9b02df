import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import { addAgentRoutes, type AgentApi } from "./agentRoutes.ts";
import type { ResponseTypes } from "./answer.ts";
import { auth, type AuthOptions } from "./auth.ts";
import type { MessageType } from "./codec.ts";
import { observe } from "./observe.ts";
import type { RouteOptions } from "./route.ts";
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
 * The koa application. Middleware, outermost first: observe (metrics, request log, request id)
 * → auth (bearer tokens) → timeout → protocol routes → extra routers (health, status, webhook…).
 */
export function createApp(api: UserApi & AgentApi, options: AppOptions, extra: Router[] = []): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const responses = new Map<string, MessageType<unknown>>();
  const routeOptions: RouteOptions = {
    bodyLimit: options.bodyLimit,
    onError: (error, ctx) => options.logger.error({ err: error, route: ctx.path, requestId: ctx.state.requestId }, "request failed"),
    onRegister: (path, response) => responses.set(path, response),
  };
  const router = new Router();
  addUserRoutes(router, api, routeOptions);
  addAgentRoutes(router, api, routeOptions);
  const known: ResponseTypes = responses;
  app.use(observe({ logger: options.logger, metrics: options.metrics, shuttingDown: options.shuttingDown }));
  app.use(auth(options.auth ?? {}, known));
  app.use(timeout(options.requestTimeoutMs ?? 0, known));
  app.use(router.routes());
  app.use(router.allowedMethods());
  for (const r of extra) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  app.on("error", (err: Error) => options.logger.warn({ err }, "connection error"));
  return app;
}
