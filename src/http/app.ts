import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "pino";
import { addAgentRoutes, type AgentApi } from "./agentRoutes.ts";
import type { RouteOptions } from "./route.ts";
import { addUserRoutes, type UserApi } from "./userRoutes.ts";

export interface AppOptions {
  readonly bodyLimit: number;
  readonly logger: Logger;
}

/** The koa application: protocol routes plus whatever extra routers the server adds. */
export function createApp(api: UserApi & AgentApi, options: AppOptions, extra: Router[] = []): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  const routeOptions: RouteOptions = {
    bodyLimit: options.bodyLimit,
    onError: (error, ctx) => options.logger.error({ err: error, route: ctx.path, requestId: ctx.state.requestId }, "request failed"),
  };
  const router = new Router();
  addUserRoutes(router, api, routeOptions);
  addAgentRoutes(router, api, routeOptions);
  app.use(router.routes());
  app.use(router.allowedMethods());
  for (const r of extra) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  app.on("error", (err: Error) => options.logger.warn({ err }, "connection error"));
  return app;
}
