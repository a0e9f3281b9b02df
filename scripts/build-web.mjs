// Builds the web console (web/) into web/dist/, which the server serves at /ui/: one JavaScript
// bundle and one stylesheet named by their content hash (so browsers may keep them for a year),
// and index.html naming them. Runs at install (npm's `prepare`, `make install`); nothing is
// fetched at run time. The new tree is built beside the old one and swapped in.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const dist = join(web, "dist");
const next = join(web, `dist.tmp-${process.pid}`);

rmSync(next, { recursive: true, force: true });
try {
  const result = await build({
    entryPoints: [join(web, "src", "main.tsx"), join(web, "src", "style.css")],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["es2022", "chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    entryNames: "assets/[name]-[hash]",
    outdir: next,
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => relative(next, join(root, p)));
  const js = outputs.find((p) => p.endsWith(".js"));
  const css = outputs.find((p) => p.endsWith(".css"));
  if (!js || !css) throw new Error(`esbuild produced ${outputs.join(", ")}: expected one .js and one .css`);
  const icon = readFileSync(join(web, "favicon.svg"));
  const iconName = `assets/favicon-${createHash("sha256").update(icon).digest("hex").slice(0, 8)}.svg`;
  mkdirSync(join(next, "assets"), { recursive: true });
  writeFileSync(join(next, iconName), icon);
  const html = readFileSync(join(web, "index.html"), "utf8").replace("%APP_JS%", js).replace("%APP_CSS%", css).replace("%FAVICON%", iconName);
  if (html.includes("%")) throw new Error("web/index.html has a placeholder this script does not fill");
  writeFileSync(join(next, "index.html"), html);
  rmSync(dist, { recursive: true, force: true });
  renameSync(next, dist);
  const size = (p) => {
    const body = readFileSync(join(dist, p));
    return `${basename(p, extname(p)).replace(/-[A-Z0-9]+$/i, "")}${extname(p)} ${(body.length / 1024).toFixed(1)} KiB (${(gzipSync(body, { level: 9 }).length / 1024).toFixed(1)} KiB gzip)`;
  };
  console.log(`web console built into web/dist/: ${[js, css, "index.html"].map(size).join(", ")}`);
} finally {
  rmSync(next, { recursive: true, force: true });
}
