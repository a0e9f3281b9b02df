import Router from "@koa/router";

export interface LandingDeps {
  readonly version: string;
  /** The served commit (null before the first commit) and its commit time. */
  readonly served: () => { readonly commit: string | null; readonly committedAt: string | null };
}

/** Where to go from here; /status and /api/* need the user token when one is set. */
const LINKS: readonly (readonly [string, string])[] = [
  ["/status", "served commit, last sync, refused commit, dirty files (JSON)"],
  ["/readyz", "readiness: 200 while a valid commit is served"],
  ["/healthz", "liveness"],
  ["/metrics", "Prometheus metrics"],
  ["/api/v1/agents", "agents with a recent heartbeat (JSON)"],
  ["/ui/", "the web console"],
];
const DOCS = "README.md and docs/ in the configserver source (docs/api.md: every HTTP route); `configserver --help` on the command line";

/**
 * `GET /` asked for JSON (`Accept: application/json`): what this server is. No token: it shows
 * nothing /metrics does not. A browser asking for HTML is sent to the web console first
 * (src/http/console.ts), which is mounted before this router.
 */
export function landingRouter(deps: LandingDeps): Router {
  const router = new Router();
  router.get("/", (ctx) => {
    const served = deps.served();
    ctx.body = { name: "configserver", version: deps.version, ...served, links: Object.fromEntries(LINKS), docs: DOCS };
  });
  return router;
}
