import Router from "@koa/router";
import type { Metrics } from "../metrics.ts";

export interface Readiness {
  readonly ready: boolean;
  /** Why not, for people (empty when ready). */
  readonly reasons: readonly string[];
  /** The served commit; null before the repository's first commit. */
  readonly commit: string | null;
}

export interface HealthDeps {
  readonly readiness: () => Readiness;
  readonly metrics?: Metrics | undefined;
}

/**
 * `GET /healthz`: the process is alive (always 200 while it answers).
 * `GET /readyz`: 200 while a valid commit is served (it should get traffic), else 503 with the reasons.
 * `GET /metrics`: Prometheus text. None of them needs a token.
 */
export function healthRouter(deps: HealthDeps): Router {
  const router = new Router();
  router.get(["/healthz", "/healthz/"], (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get(["/readyz", "/readyz/"], (ctx) => {
    const r = deps.readiness();
    ctx.status = r.ready ? 200 : 503;
    ctx.body = { ready: r.ready, reasons: r.reasons, commit: r.commit };
  });
  if (deps.metrics) {
    const metrics = deps.metrics;
    router.get(["/metrics", "/metrics/"], async (ctx) => {
      ctx.body = await metrics.text();
      ctx.type = metrics.contentType;
    });
  }
  return router;
}
