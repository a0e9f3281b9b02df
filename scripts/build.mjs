// Compiles src/ to dist/ (what bin/configserver runs) with tsc, plus the generated protobuf code,
// which tsc does not copy. Runs as part of the npm `prepare` script, so `npm ci` in a clone and
// `npm pack` both leave a complete dist/. The new tree is built beside the old one and swapped in,
// so no stale file of a deleted source survives.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const next = join(root, `dist.tmp-${process.pid}`);
const gen = join(root, "src", "gen");

if (!existsSync(join(gen, "proto.js"))) throw new Error("src/gen/ is missing: run `node scripts/gen-proto.mjs` first (npm runs it before this in `prepare`)");
rmSync(next, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", next], { cwd: root, stdio: "inherit" });
  for (const f of readdirSync(gen).filter((f) => f.endsWith(".js"))) cpSync(join(gen, f), join(next, "gen", f));
  rmSync(dist, { recursive: true, force: true });
  renameSync(next, dist);
} finally {
  rmSync(next, { recursive: true, force: true });
}
