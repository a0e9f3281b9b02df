import Router from "@koa/router";
import type { Context } from "koa";
import { callerOf } from "./tokens.ts";

/**
 * GET /api/v1/whoami: the user token the request came with — its name, role, the identity its
 * writes are committed as, and whether its author header counts (the console shows it beside the
 * author fields). `token` is null on a server without user tokens, where anyone may write and the
 * author header always counts.
 */
export function whoamiRouter(): Router {
  const router = new Router();
  router.get(["/api/v1/whoami", "/api/v1/whoami/"], (ctx: Context) => {
    const t = callerOf(ctx.req);
    ctx.body = {
      code: "Accept",
      message: "Who am I success",
      token: t === undefined ? null : { name: t.name, role: t.role, identity: t.identity ? `${t.identity.name} <${t.identity.email}>` : null, setsAuthor: t.setsAuthor },
    };
  });
  return router;
}
