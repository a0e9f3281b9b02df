import { createHmac, timingSafeEqual } from "node:crypto";
import Router from "@koa/router";
import type { Context } from "koa";
import getRawBody from "raw-body";
import { deliveryId, WebhookDeliveries } from "./webhookDeliveries.ts";

export interface WebhookOptions {
  /** Shared secret; without one the endpoint refuses every request. */
  readonly secret: string | undefined;
  /** Called for each verified push; the payload is only a hint, the server fetches and decides. */
  readonly onPush: (provider: Provider) => void;
}

export type Provider = "github" | "gitlab" | "gitea";

const sameBytes = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const hmacHex = (secret: string, body: Buffer) => createHmac("sha256", secret).update(body).digest("hex");

/** Which provider signed the request, or why it is refused. */
export function verifyPush(headers: Context["headers"], body: Buffer, secret: string): { ok: true; provider: Provider } | { ok: false; reason: string } {
  const github = headers["x-hub-signature-256"];
  if (typeof github === "string") {
    return sameBytes(github, `sha256=${hmacHex(secret, body)}`) ? { ok: true, provider: "github" } : { ok: false, reason: "X-Hub-Signature-256 does not match the body" };
  }
  const gitea = headers["x-gitea-signature"];
  if (typeof gitea === "string") {
    return sameBytes(gitea, hmacHex(secret, body)) ? { ok: true, provider: "gitea" } : { ok: false, reason: "X-Gitea-Signature does not match the body" };
  }
  const gitlab = headers["x-gitlab-token"];
  if (typeof gitlab === "string") {
    return sameBytes(gitlab, secret) ? { ok: true, provider: "gitlab" } : { ok: false, reason: "X-Gitlab-Token is wrong" };
  }
  return { ok: false, reason: "no signature: expected X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea) or X-Gitlab-Token (GitLab)" };
}

/** The largest webhook body read: push events are a few KiB, a large one some hundred. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const SIGNATURE_HEADERS = ["x-hub-signature-256", "x-gitea-signature", "x-gitlab-token"];

/**
 * `POST /hooks/git`: a verified push event triggers an immediate sync. Whatever can be refused
 * without the body (no secret configured, no signature header, a declared size over the limit)
 * is refused before a byte of it is read, and the connection is closed rather than drained.
 */
export function webhookRouter(options: WebhookOptions): Router {
  const router = new Router();
  const deliveries = new WebhookDeliveries();
  const refuse = (ctx: Context, status: number, error: string) => {
    ctx.set("connection", "close");
    ctx.status = status;
    ctx.body = { error };
  };
  router.post(["/hooks/git", "/hooks/git/"], async (ctx) => {
    if (!options.secret) return refuse(ctx, 401, "webhooks are disabled: start the server with a webhook secret (--webhook-secret)");
    if (!SIGNATURE_HEADERS.some((h) => typeof ctx.headers[h] === "string")) {
      return refuse(ctx, 401, "no signature: expected X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea) or X-Gitlab-Token (GitLab)");
    }
    const declared = Number(ctx.headers["content-length"] ?? NaN);
    if (declared > WEBHOOK_BODY_LIMIT) return refuse(ctx, 413, `the webhook body is ${declared} bytes; at most ${WEBHOOK_BODY_LIMIT} are read`);
    let body: Buffer;
    try {
      body = await getRawBody(ctx.req, { limit: WEBHOOK_BODY_LIMIT });
    } catch (e) {
      const tooLarge = (e as { type?: string }).type === "entity.too.large";
      return refuse(ctx, tooLarge ? 413 : 400, tooLarge ? `the webhook body is larger than ${WEBHOOK_BODY_LIMIT} bytes` : "the webhook body could not be read");
    }
    const verdict = verifyPush(ctx.headers, body, options.secret);
    if (!verdict.ok) return refuse(ctx, 401, verdict.reason);
    const id = deliveryId(ctx.headers);
    if (id !== undefined && !deliveries.firstTime(id)) {
      ctx.status = 200;
      ctx.body = { accepted: false, provider: verdict.provider, action: "ignored: this delivery was already received" };
      return;
    }
    options.onPush(verdict.provider);
    ctx.status = 202;
    ctx.body = { accepted: true, provider: verdict.provider, action: "sync started" };
  });
  return router;
}
