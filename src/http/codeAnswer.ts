import { randomUUID } from "node:crypto";
import type { Context } from "koa";
import type { ErrorCode } from "../domain/errors.ts";
import { HTTP_STATUS } from "./errors.ts";
import type { Endpoint } from "./endpoint.ts";
import { applyOutcome } from "./koaRoute.ts";

/** Message route path (without trailing slash) → its endpoint, whose message type the answer uses. */
export type EndpointsByPath = ReadonlyMap<string, Endpoint>;

/** For JSON APIs outside the protocols (/api/v1/…): every answer is {code, message}. */
export const NOT_PROTOCOL: EndpointsByPath = new Map();

/**
 * Answers a request with a code (a refusal, or a JSON API's result code) before or instead of its
 * handler: in the endpoint's own message and envelope when the path is a message route (protobuf,
 * or JSON when the request is JSON), else as a JSON object {code, message}. Sets what the request
 * log and metrics read. "Answer" means what a request gets back, here and in src/protocols/.
 */
export function answerCode(ctx: Context, endpoints: EndpointsByPath, code: ErrorCode, message: string): void {
  const path = ctx.path.length > 1 && ctx.path.endsWith("/") ? ctx.path.slice(0, -1) : ctx.path;
  const route = endpoints.get(path);
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
