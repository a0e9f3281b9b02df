import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import Router from "@koa/router";
import type { Context } from "koa";

/** Where `scripts/build-web.mjs` writes the console (the same place from src/http/ and from a compiled dist/http/). */
export const CONSOLE_ASSETS = fileURLToPath(new URL("../../web/dist/", import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The console's own answers may only load what it ships: no inline script or style, no other
 * origin, no frames, no plugins, no forms posting elsewhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface Asset {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly type: string;
  /** Names with a content hash never change: browsers may keep them for a year. */
  readonly immutable: boolean;
}

function load(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile()) {
        const body = readFileSync(join(dir, rel));
        const type = TYPES[extname(rel)] ?? "application/octet-stream";
        const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
        assets.set(rel, { body, gzip: compressible ? gzipSync(body, { level: 9 }) : undefined, type, immutable: rel.startsWith("assets/") });
      }
    }
  };
  try {
    if (statSync(dir).isDirectory()) walk("");
  } catch {
    // Not built: the console answers 503 saying how to build it.
  }
  return assets;
}

function secure(ctx: Context): void {
  ctx.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  ctx.set("X-Content-Type-Options", "nosniff");
  ctx.set("X-Frame-Options", "DENY");
  ctx.set("Referrer-Policy", "no-referrer");
  ctx.set("Cross-Origin-Opener-Policy", "same-origin");
}

function send(ctx: Context, asset: Asset): void {
  secure(ctx);
  ctx.set("Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  ctx.vary("Accept-Encoding");
  ctx.type = asset.type;
  if (asset.gzip && ctx.acceptsEncodings("gzip", "identity") === "gzip") {
    ctx.set("Content-Encoding", "gzip");
    ctx.body = asset.gzip;
  } else ctx.body = asset.body;
}

function notFound(ctx: Context, message: string, status = 404): void {
  secure(ctx);
  ctx.status = status;
  ctx.type = "text/plain; charset=utf-8";
  ctx.set("Cache-Control", "no-store");
  ctx.body = message;
}

/**
 * The web console's static files at /ui/ (built from web/ at install; read into memory once at
 * start), and `/` sending browsers there (JSON clients go on to the landing router). Only GET and HEAD; every other path is left to the other
 * routers, so agents' paths are never touched. Pages talk to the documented JSON API only.
 */
export function consoleRouter(options: { readonly dir?: string } = {}): Router {
  const dir = options.dir ?? CONSOLE_ASSETS;
  const assets = load(dir);
  const index = assets.get("index.html");
  const router = new Router({ sensitive: true, strict: true });
  // Relative redirects keep working behind a proxy that serves the server under a path prefix.
  // A client asking for JSON gets the server's description instead (src/http/landing.ts).
  router.get("/", (ctx, next) => {
    if (ctx.accepts("html", "json") === "json") return next();
    secure(ctx);
    ctx.status = 302;
    ctx.redirect("ui/");
  });
  router.get("/ui", (ctx) => {
    secure(ctx);
    ctx.status = 301;
    ctx.redirect("ui/");
  });
  router.get(["/ui/", "/ui/index.html"], (ctx) => {
    if (!index) return notFound(ctx, `The web console is not built (no ${join(dir, "index.html")}): run \`make install\` or \`npm run build:web\` in the configserver folder.\n`, 503);
    send(ctx, index);
  });
  router.get("/ui/*path", (ctx) => {
    const rel = ctx.path.slice("/ui/".length);
    const asset = rel === "index.html" ? undefined : assets.get(rel);
    if (!asset) return notFound(ctx, `Not found: ${ctx.path} is not a file of the web console.\n`);
    send(ctx, asset);
  });
  return router;
}
