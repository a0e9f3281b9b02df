import { randomUUID } from "node:crypto";
import type { Context } from "koa";
import getRawBody from "raw-body";
import { DomainError } from "../domain/errors.ts";
import { nonUnicodeAt } from "../domain/unicodeText.ts";
import { answerCode, NOT_PROTOCOL } from "./codeAnswer.ts";

/**
 * A JSON API handler: its result is the answer's body (with code Accept); a DomainError is
 * answered {code, message} with the status of the one code table; anything else is an
 * InternalServerError naming the path (and reported to `onError`).
 */
export function jsonRoute(fn: (ctx: Context) => Promise<Record<string, unknown>> | Record<string, unknown>, onError?: (error: unknown, ctx: Context) => void) {
  return async (ctx: Context): Promise<void> => {
    ctx.type = "application/json";
    try {
      ctx.body = { code: "Accept", ...(await fn(ctx)) };
      ctx.status = 200;
    } catch (e) {
      if (e instanceof DomainError && e.code !== "InternalServerError") return answerCode(ctx, NOT_PROTOCOL, e.code, e.message);
      // What failed (git's stderr, paths) goes to the log with the request id, not to the client.
      onError?.(e, ctx);
      const requestId = randomUUID();
      ctx.set("x-log-requestid", requestId);
      ctx.state.requestId = requestId;
      ctx.state.err = e;
      answerCode(ctx, NOT_PROTOCOL, "InternalServerError", `Internal error while handling ${ctx.path}; the server log has the details (request id ${requestId}).`);
    }
  };
}

/** The request body as a JSON object; an empty body is {}. Koa's body parsers skip some methods, so it is read here. */
export async function readJsonObject(ctx: Context, limit: number, example: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = (await getRawBody(ctx.req, { limit })).toString("utf8");
  } catch (e) {
    throw new DomainError("BadRequest", `Could not read the request body: ${(e as Error).message}`);
  }
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    // reported below
  }
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const at = nonUnicodeAt(v);
    if (at !== undefined) throw new DomainError("BadRequest", `The request body's ${at} is not Unicode text: it holds a lone surrogate (a \\ud800-\\udfff escape without its pair).`);
    return v as Record<string, unknown>;
  }
  throw new DomainError("BadRequest", `The request body must be a JSON object such as ${example}.`);
}
