import { randomUUID } from "node:crypto";
import type { Context } from "koa";
import type { ErrorCode } from "../domain/errors.ts";
import { encodeBody, type MessageType } from "./codec.ts";
import { HTTP_STATUS } from "./errors.ts";
import { isJson } from "./route.ts";

/** Protocol route path (without trailing slash) → its response message type. */
export type ResponseTypes = ReadonlyMap<string, MessageType<unknown>>;

/** For JSON APIs outside the protocol (/api/v1/…): every answer is {code, message}. */
export const NOT_PROTOCOL: ResponseTypes = new Map();

/**
 * Answers a request before (or instead of) its route handler: in the route's own response message
 * when the path is a protocol route (protobuf, or JSON when the request is JSON), else as a JSON
 * object {code, message}. Sets what the request log and metrics read (ctx.state.route, .code).
 */
export function answer(ctx: Context, responses: ResponseTypes, code: ErrorCode, message: string): void {
  const path = ctx.path.length > 1 && ctx.path.endsWith("/") ? ctx.path.slice(0, -1) : ctx.path;
  const type = responses.get(path);
  ctx.status = HTTP_STATUS[code];
  ctx.state.code = code;
  ctx.state.message = message;
  if (!ctx.response.get("x-log-requestid")) ctx.set("x-log-requestid", randomUUID());
  if (type) {
    ctx.state.route = path;
    const json = isJson(ctx);
    ctx.type = json ? "application/json" : "application/x-protobuf";
    ctx.body = encodeBody(type, { response_id: "", code, message }, json);
  } else {
    ctx.type = "application/json";
    ctx.body = { code, message };
  }
}
