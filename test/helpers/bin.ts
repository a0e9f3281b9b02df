import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Newest modification time of the files dist/ is built from (see BUILD_INPUTS in the Makefile). */
function newestSource(dir: string): { path: string; ms: number } {
  let newest = { path: dir, ms: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    const found = e.isDirectory() ? newestSource(path) : /\.(ts|js)$/.test(e.name) ? { path, ms: statSync(path).mtimeMs } : newest;
    if (found.ms > newest.ms) newest = found;
  }
  return newest;
}

/**
 * bin/configserver, checked to run a dist/ built from the current sources: the CLI tests test
 * the compiled JavaScript users get, so a stale build must fail loudly, not test old code.
 */
export function builtBin(): string {
  const cli = join(root, "dist", "cli.js");
  let built: number;
  try {
    built = statSync(cli).mtimeMs;
  } catch {
    throw new Error(`${cli} is missing: run \`make build\` (make test does) before the CLI tests`);
  }
  const newest = newestSource(join(root, "src"));
  if (newest.ms > built) throw new Error(`dist/ is older than ${newest.path}: run \`make build\` (make test does) before the CLI tests`);
  return join(root, "bin", "configserver");
}
