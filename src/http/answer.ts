import { randomUUID } from "node:crypto";
import type { Context } from "koa";
import type { ErrorCode } from "../domain/errors.ts";
import { HTTP_STATUS } from "./errors.ts";
import type { Endpoint } from "./endpoint.ts";
import { applyOutcome } from "./koaRoute.ts";

/** Protocol route path (without trailing slash) → its compiled route, whose message type refusals use. */
export type ResponseTypes = ReadonlyMap<string, Endpoint>;

/** For JSON APIs outside the protocols (/api/v1/…): every answer is {code, message}. */
export const NOT_PROTOCOL: ResponseTypes = new Map();

/**
 * Answers a request before (or instead of) its route handler: in the route's own response message
 * and envelope when the path is a protocol route (protobuf, or JSON when the request is JSON),
 * else as a JSON object {code, message}. Sets what the request log and metrics read.
 */
export function answer(ctx: Context, responses: ResponseTypes, code: ErrorCode, message: string): void {
  const path = ctx.path.length > 1 && ctx.path.endsWith("/") ? ctx.path.slice(0, -1) : ctx.path;
  const route = responses.get(path);
  if (route) {
    ctx.state.route = path;
    applyOutcome(ctx, route.refuse(ctx.req, code, message));
    return;
  }
  ctx.status = HTTP_STATUS[code];
  ctx.state.code = code;
  ctx.state.message = message;
  if (!ctx.response.get("x-log-requestid")) ctx.set("x-log-requestid", randomUUID());
  ctx.type = "application/json";
  ctx.body = { code, message };
}
