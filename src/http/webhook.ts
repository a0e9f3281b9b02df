import { createHmac, timingSafeEqual } from "node:crypto";
import Router from "@koa/router";
import type { Context } from "koa";
import getRawBody from "raw-body";

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

/** `POST /hooks/git`: a verified push event triggers an immediate sync. */
export function webhookRouter(options: WebhookOptions): Router {
  const router = new Router();
  router.post(["/hooks/git", "/hooks/git/"], async (ctx) => {
    const body = await getRawBody(ctx.req, { limit: 25 * 1024 * 1024 });
    if (!options.secret) {
      ctx.status = 401;
      ctx.body = { error: "webhooks are disabled: start the server with a webhook secret (--webhook-secret)" };
      return;
    }
    const verdict = verifyPush(ctx.headers, body, options.secret);
    if (!verdict.ok) {
      ctx.status = 401;
      ctx.body = { error: verdict.reason };
      return;
    }
    options.onPush(verdict.provider);
    ctx.status = 202;
    ctx.body = { accepted: true, provider: verdict.provider, action: "sync started" };
  });
  return router;
}
