import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "pino";
import type { Metrics } from "../metrics.ts";
import { addAgentRoutes, type AgentApi } from "./agentRoutes.ts";
import type { ResponseTypes } from "./answer.ts";
import { agentAuth, auth, type AuthOptions } from "./auth.ts";
import type { MessageType } from "./codec.ts";
import { observer } from "./observe.ts";
import type { CompiledRoute, RouteOptions } from "./route.ts";
import { expiry, timeout } from "./timeout.ts";
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
 *
 * Agents' requests (tens of thousands of agents, every few seconds) take a shortcut in front of
 * that chain: an exact `/Agent/*` path (with or without a trailing slash) with its route's method
 * goes straight to its handler, with the same observation, agent token check and timeout done
 * inline. Anything else (other spellings, other methods) goes through the chain as before.
 */
export function createApp(api: UserApi & AgentApi, options: AppOptions, extra: Router[] = []): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const responses = new Map<string, MessageType<unknown>>();
  const routeOptions: RouteOptions = {
    bodyLimit: options.bodyLimit,
    onError: (error, ctx) => options.logger.error({ err: error, route: ctx.path, requestId: ctx.state.requestId }, "request failed"),
    onRegister: (path, response, route) => {
      responses.set(path, response);
      if (path.startsWith("/Agent/")) for (const p of [path, `${path}/`]) agentRoutes.set(p, route);
    },
  };
  const agentRoutes = new Map<string, CompiledRoute>();
  const router = new Router();
  addUserRoutes(router, api, routeOptions);
  addAgentRoutes(router, api, routeOptions);
  const known: ResponseTypes = responses;
  const observation = observer({ logger: options.logger, metrics: options.metrics, shuttingDown: options.shuttingDown });
  const agentOk = agentAuth(options.auth ?? {}, known);
  const expire = expiry(options.requestTimeoutMs ?? 0, known);
  const done = observation.done;
  const agentRequest = async (ctx: Koa.Context, route: CompiledRoute) => {
    const started = performance.now();
    let failure: unknown;
    try {
      if (agentOk === undefined || agentOk(ctx)) await (expire === undefined ? route.run(ctx) : expire(ctx, route.run(ctx)));
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      done(ctx, route.path, started, failure, true);
    }
  };
  app.use((ctx, next) => {
    const route = agentRoutes.get(ctx.path);
    if (route === undefined || ctx.method !== route.methods[0] || route.methods.length !== 1) return next();
    return agentRequest(ctx, route);
  });
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
  return app;
}
