import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Middleware, Next } from "koa";
import { allows, type NamedToken } from "../domain/access.ts";
import type { IpSelector } from "../domain/addressMatch.ts";
import { networkCheck, networkRefusal } from "./agentNetworks.ts";
import { answerCode, type EndpointsByPath } from "./codeAnswer.ts";
import { requiredRole, ROLE_DOES } from "./roles.ts";
import { setCaller, TokenTable } from "./tokens.ts";

export interface AuthOptions {
  /** Required on /User/*, /api/* and /status when set: an admin token that may set the author. */
  readonly userToken?: string | undefined;
  /** Named user tokens with roles (the settings file's `tokens:`); with userToken, one table. */
  readonly userTokens?: readonly NamedToken[] | undefined;
  /** Required on /Agent/* and /v1/opamp when set. */
  readonly agentToken?: string | undefined;
  /** When set, /Agent/* and /v1/opamp only from these source addresses (403 otherwise). */
  readonly agentNetworks?: readonly IpSelector[] | undefined;
}

// Case-insensitive on purpose: the router matches paths exactly, but a token check must never
// depend on a spelling a proxy might normalise.
// OpAMP agents POST to /v1/opamp (src/protocols/opamp/routes.ts).
export const AGENT_PATH = /^\/(agent(\/|$)|v1\/opamp\/?$)/i;
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
 * Bearer tokens for the two API halves: the agent token on /Agent/*; the user tokens on /User/*,
 * /api/* and /status, each with a role (src/http/roles.ts says which a request needs). Webhooks
 * (/hooks/*, signed), health and metrics are never affected. A missing or unknown token is HTTP
 * 401 Unauthorized, a known one without the role 403 Forbidden naming the role needed, both in
 * the route's response message. The token let in is remembered with the request (tokens.ts): its
 * identity is the author of its writes.
 */
export function auth(options: AuthOptions, responses: EndpointsByPath): Middleware {
  const agentOk = options.agentToken ? tokenCheck(options.agentToken) : undefined;
  const users = new TokenTable(options.userTokens ?? [], options.userToken);
  const networkOk = options.agentNetworks ? networkCheck(options.agentNetworks) : undefined;
  if (!agentOk && !networkOk && users.size === 0) return (_ctx: Context, next: Next) => next();
  return (ctx: Context, next: Next) => {
    const path = ctx.path;
    const authorization = ctx.get("authorization") || undefined;
    if (AGENT_PATH.test(path)) {
      if (networkOk && !networkOk(ctx.req.socket)) {
        answerCode(ctx, responses, "Forbidden", networkRefusal(ctx.req.socket));
        return Promise.resolve();
      }
      if (!agentOk || agentOk(authorization)) return next();
      refuse(ctx, responses, "agent");
      return Promise.resolve();
    }
    const needed = users.size > 0 ? requiredRole(ctx.method, path) : undefined;
    if (needed === undefined) return next();
    const token = users.find(authorization);
    if (token === undefined) {
      refuse(ctx, responses, "user");
      return Promise.resolve();
    }
    ctx.state.token = token.name;
    if (!allows(token.role, needed)) {
      answerCode(ctx, responses, "Forbidden", `The token "${token.name}" has the ${token.role} role, which ${ROLE_DOES[token.role]}; this request needs the ${needed} role (${ROLE_DOES[needed]}). Ask for a token with that role.`);
      return Promise.resolve();
    }
    setCaller(ctx.req, token);
    return next();
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
