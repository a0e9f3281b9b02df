import { createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** One POST of one event. */
export interface Attempt {
  readonly url: string;
  readonly body: Buffer;
  readonly type: string;
  /** The same for every attempt of one event: a receiver can drop a repeat it already handled. */
  readonly delivery: string;
  readonly secret: string | undefined;
  readonly timeoutMs: number;
}

/** How an attempt ended: delivered, worth another try, or not (a redirect, a 4xx other than 408/429). */
export type AttemptResult =
  | { readonly outcome: "delivered"; readonly status: number }
  | { readonly outcome: "retry"; readonly reason: string; readonly retryAfter?: string | undefined }
  | { readonly outcome: "give-up"; readonly reason: string };

/** The header the incoming webhook checks, made the same way: HMAC-SHA256 of the raw body, hex. */
export const signature = (secret: string, body: Buffer) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

const RETRIED = new Set([408, 425, 429]);

/**
 * POSTs the body once. Redirects are not followed (a 3xx gives up: the URL is wrong, and following
 * it would send the signed body somewhere nobody configured); the answer's body is discarded
 * unread; the whole exchange is bounded by `timeoutMs`. Never rejects.
 */
export function deliverOnce(a: Attempt): { readonly done: Promise<AttemptResult>; abort(): void } {
  let req: ReturnType<typeof httpRequest> | undefined;
  let settle: (r: AttemptResult) => void = () => undefined;
  const done = new Promise<AttemptResult>((resolve) => {
    let settled = false;
    settle = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => settle({ outcome: "retry", reason: `no answer within ${a.timeoutMs} ms` }), a.timeoutMs);
    let url: URL;
    try {
      url = new URL(a.url);
    } catch {
      return settle({ outcome: "give-up", reason: "not a URL" });
    }
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "content-length": String(a.body.length),
      "user-agent": "configserver-notify",
      "x-configserver-event": a.type,
      "x-configserver-delivery": a.delivery,
    };
    if (a.secret !== undefined) headers["x-hub-signature-256"] = signature(a.secret, a.body);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    req = send(url, { method: "POST", headers });
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      const retryAfter = res.headers["retry-after"];
      res.resume();
      if (status >= 200 && status < 300) return settle({ outcome: "delivered", status });
      if (status >= 500 || RETRIED.has(status)) return settle({ outcome: "retry", reason: `answered HTTP ${status}`, retryAfter });
      if (status >= 300 && status < 400) return settle({ outcome: "give-up", reason: `answered HTTP ${status} (a redirect: not followed; set the URL it points to)` });
      settle({ outcome: "give-up", reason: `answered HTTP ${status}` });
    });
    req.on("error", (e: NodeJS.ErrnoException) => settle({ outcome: "retry", reason: e.code ?? e.message }));
    req.end(a.body);
  });
  return { done, abort: () => settle({ outcome: "give-up", reason: "the server is stopping" }) };
}
