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
];
const DOCS = "README.md and docs/ in the configserver source (docs/api.md: every HTTP route); `configserver --help` on the command line";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `GET /`: what this server is, for a person who opens its address in a browser (HTML) or asks
 * with `Accept: application/json`. No token: it shows nothing /metrics does not. Its own router,
 * so that a web console can take the path over.
 */
export function landingRouter(deps: LandingDeps): Router {
  const router = new Router();
  router.get("/", (ctx) => {
    const served = deps.served();
    if (ctx.accepts("html", "json") === "json") {
      ctx.body = { name: "configserver", version: deps.version, ...served, links: Object.fromEntries(LINKS), docs: DOCS };
      return;
    }
    const commit = served.commit ? `<code>${escape(served.commit)}</code>${served.committedAt ? ` (committed ${escape(served.committedAt)})` : ""}` : "none yet (the repository has no commits)";
    ctx.type = "html";
    ctx.body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>configserver ${escape(deps.version)}</title></head>
<body>
<h1>configserver <small>${escape(deps.version)}</small></h1>
<p>GitOps ConfigServer for iLogtail agents: configs and agent groups live in a git repository.</p>
<p>Serving commit ${commit}.</p>
<ul>
${LINKS.map(([href, what]) => `<li><a href="${href}">${href}</a>: ${escape(what)}</li>`).join("\n")}
</ul>
<p>Docs: ${escape(DOCS)}.</p>
</body></html>
`;
  });
  return router;
}
