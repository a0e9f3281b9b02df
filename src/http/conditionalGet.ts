import { createHash } from "node:crypto";
import type { Context, Middleware, Next } from "koa";

const POLLED = /^\/(api|status)(\/|$)/;

/**
 * Weak comparison, as RFC 9110 asks for If-None-Match. Compared by hand rather than with koa's
 * `ctx.fresh`, which answers "not fresh" to any request saying `Cache-Control: no-cache`, as
 * browsers' fetch does when a script manages the ETags itself.
 */
function matches(ifNoneMatch: string, tag: string): boolean {
  if (ifNoneMatch === "") return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === tag);
}

/**
 * ETags on the JSON reads (`/api/*`, `/status`): a weak tag of the answer's bytes, and 304 Not
 * Modified when the request's If-None-Match names it. A console that polls every few seconds
 * then re-renders, and moves, only what changed.
 */
export function conditionalGet(): Middleware {
  return async (ctx: Context, next: Next) => {
    await next();
    if ((ctx.method !== "GET" && ctx.method !== "HEAD") || ctx.status !== 200 || !POLLED.test(ctx.path)) return;
    const body: unknown = ctx.body;
    // Only plain JSON objects: protocol answers (Buffers) and streams are left alone.
    if (body === null || typeof body !== "object" || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === "function") return;
    const text = JSON.stringify(body);
    const tag = `"${createHash("sha1").update(text).digest("base64url")}"`;
    ctx.set("ETag", `W/${tag}`);
    ctx.set("Cache-Control", "no-cache");
    if (matches(ctx.get("if-none-match"), tag)) {
      ctx.status = 304;
      ctx.body = null;
      return;
    }
    ctx.type = "application/json";
    ctx.body = text;
  };
}
