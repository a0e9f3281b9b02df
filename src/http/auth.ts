import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Middleware, Next } from "koa";
import { answerCode, type EndpointsByPath } from "./codeAnswer.ts";

export interface AuthOptions {
  /** Required on /User/*, /api/* and /status when set. */
  readonly userToken?: string | undefined;
  /** Required on /Agent/* and /v1/opamp when set. */
  readonly agentToken?: string | undefined;
}

// Case-insensitive on purpose: the router matches paths exactly, but a token check must never
// depend on a spelling a proxy might normalise.
// OpAMP agents POST to /v1/opamp (src/protocols/opamp/routes.ts).
export const AGENT_PATH = /^\/(agent(\/|$)|v1\/opamp\/?$)/i;
const USER_PATH = /^\/(user|api|status)(\/|$)/i;
const BEARER = /^Bearer +(\S+) *$/i;

const sha256 = (s: string) => createHash("sha256").update(s).digest();

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed first, so
 * neither the token's length nor its content leaks through timing.
 */
export function tokenCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = sha256(token);
  return (authorization) => {
    if (!authorization) return false;
    const m = BEARER.exec(authorization);
    return m !== null && timingSafeEqual(sha256(m[1] as string), expected);
  };
}

/**
 * Bearer tokens for the two API halves: the user token on /User/*, /api/* and /status, the agent
 * token on /Agent/*. Webhooks (/hooks/*, signed), health and metrics are never affected. A refusal
 * is HTTP 401, code Unauthorized, in the route's response message.
 */
export function auth(options: AuthOptions, responses: EndpointsByPath): Middleware {
  const agentOk = options.agentToken ? tokenCheck(options.agentToken) : undefined;
  const userOk = options.userToken ? tokenCheck(options.userToken) : undefined;
  if (!agentOk && !userOk) return (_ctx: Context, next: Next) => next();
  return (ctx: Context, next: Next) => {
    const path = ctx.path;
    const check = AGENT_PATH.test(path) ? agentOk : USER_PATH.test(path) ? userOk : undefined;
    if (!check || check(ctx.get("authorization") || undefined)) return next();
    refuse(ctx, responses, check === agentOk ? "agent" : "user");
    return Promise.resolve();
  };
}

/** The `WWW-Authenticate` header of a refusal. */
export const BEARER_CHALLENGE = 'Bearer realm="configserver"';

/** The message of a refusal (HTTP 401, code Unauthorized); also app.ts's `/Agent/*` shortcut answers it. */
export function refusal(which: "agent" | "user", authorization: string | undefined): string {
  return authorization
    ? `The ${which} token in the Authorization header is wrong.`
    : `This server requires ${which === "agent" ? "an" : "a"} ${which} token: send "Authorization: Bearer <token>".`;
}

function refuse(ctx: Context, responses: EndpointsByPath, which: "agent" | "user"): void {
  ctx.set("www-authenticate", BEARER_CHALLENGE);
  answerCode(ctx, responses, "Unauthorized", refusal(which, ctx.get("authorization") || undefined));
}
