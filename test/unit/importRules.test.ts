// The import rule of src/ (docs/architecture.md, "Layers"): every file's imports are read and
// checked against the layer table below, so the architecture stays what the docs say. Internal:
// it reads the source tree, not the running server.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * Layers, lowest first. A file may import its own folder (or itself: a top-level file is its
 * own unit) and units of lower layers; never a unit of its own layer or a higher one.
 */
export const LAYERS: readonly (readonly string[])[] = [
  // Pure: the model and its rules. Imports only domain/ (checked on its own below).
  ["domain/"],
  // Leaves: generated protobuf code, the version, the logger, problem texts, metric series, the
  // tests' fault injection, the unhandled-rejection guard.
  ["gen/", "version.ts", "logger.ts", "problemFormat.ts", "requestMetrics.ts", "faults.ts", "crashGuard.ts"],
  // Redis connections and commit announcements (the registries' and the replicas' transport).
  ["redis/"],
  // Infrastructure: git and YAML (store), the agent registries.
  ["store/", "agents/"],
  // Outgoing events (--notify-url): built, signed, queued and retried; fed by the store's events and the rollouts.
  ["notify/"],
  // Settings and the metrics registry.
  ["settings/", "metrics.ts"],
  // Progressive rollouts at run time: the controller, its state file (it reaches the store and the
  // registry through the interfaces it is given).
  ["rollouts/"],
  // HTTP only: the koa app, the agent listener, the Endpoint port, JSON API, console, health.
  ["http/"],
  // The message routes: agent protocols (and the alpha User API), their compiler and caches.
  ["protocols/"],
  // Pieces of the wiring: the store's events, the links between replicas, start-up checks.
  ["wiring/"],
  // Wiring of one process.
  ["server.ts"],
  // --workers: the primary and its workers.
  ["cluster/"],
  ["commands/"],
  ["cli.ts"],
];

/** Same-layer imports allowed, each a known debt to pay off: none. */
export const SAME_LAYER_DEBTS: readonly string[] = [];

/** The unit of a path under src/: its top folder ("http/") or, for a top-level file, its name. */
export function unitOf(path: string): string {
  const i = path.indexOf("/");
  return i < 0 ? path : path.slice(0, i + 1);
}

/** Every module specifier a source text imports: static, re-exports, side-effect and dynamic imports, type-only included. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm)) out.push(m[1] as string);
  for (const m of text.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) out.push(m[1] as string);
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1] as string);
  return out;
}

/** What is wrong with `file` (relative to src/) importing `spec`; undefined when it is allowed. */
export function violation(file: string, spec: string): string | undefined {
  const from = unitOf(file);
  if (from === "domain/") {
    if (!spec.startsWith(".")) return `${file} imports ${spec}: domain/ is pure and imports only domain/`;
    const to = unitOf(relative(SRC, resolve(SRC, dirname(file), spec)).split("\\").join("/"));
    return to === "domain/" ? undefined : `${file} imports ${spec} (${to}): domain/ is pure and imports only domain/`;
  }
  if (!spec.startsWith(".")) return undefined;
  const target = relative(SRC, resolve(SRC, dirname(file), spec)).split("\\").join("/");
  if (target.startsWith("..")) return `${file} imports ${spec}, outside src/`;
  const to = unitOf(target);
  if (from === to) return undefined;
  if (from === "http/" && to === "protocols/") return `${file} imports ${spec}: http/ imports nothing from protocols/ (createApp takes compiled routes)`;
  const a = LAYERS.findIndex((l) => l.includes(from));
  const b = LAYERS.findIndex((l) => l.includes(to));
  if (a < 0) return `${file}: ${from} is in no layer of test/unit/importRules.test.ts (add it where it belongs)`;
  if (b < 0) return `${file} imports ${spec}: ${to} is in no layer of test/unit/importRules.test.ts (add it where it belongs)`;
  if (b < a) return undefined;
  if (b === a && SAME_LAYER_DEBTS.includes(`${from} -> ${to}`)) return undefined;
  return `${file} imports ${spec}: ${from} (layer ${a}) may not import ${to} (layer ${b}), ${b === a ? "the same layer" : "a higher layer"}`;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js|mjs)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

test("every import in src/ follows the layer table", (t) => {
  const files = sourceFiles(SRC);
  t.true(files.length > 100, "src/ was read");
  const problems: string[] = [];
  let imports = 0;
  for (const path of files) {
    const file = relative(SRC, path).split("\\").join("/");
    for (const spec of importsOf(readFileSync(path, "utf8"))) {
      imports++;
      const wrong = violation(file, spec);
      if (wrong !== undefined) problems.push(wrong);
    }
  }
  t.true(imports > 400, `imports were found (${imports})`);
  t.deepEqual(problems, []);
});

test("the checker refuses what the rule forbids, and reads every form of import", (t) => {
  // What the rule forbids: each of these is a violation.
  t.truthy(violation("http/app.ts", "../protocols/compileRoutes.ts"));
  t.truthy(violation("http/app.ts", "../server.ts"));
  t.truthy(violation("domain/agent.ts", "node:crypto"));
  t.truthy(violation("domain/agent.ts", "../http/errors.ts"));
  t.truthy(violation("domain/agent.ts", "yaml"));
  t.truthy(violation("store/git.ts", "../agents/registryUrl.ts"), "the same layer");
  t.truthy(violation("protocols/repeats.ts", "../cluster/worker.ts"));
  t.truthy(violation("agents/x.ts", "../nowhere/y.ts"), "a folder in no layer");
  // And what it allows.
  t.is(violation("protocols/compileRoute.ts", "../http/endpoint.ts"), undefined);
  t.is(violation("protocols/v1/routes.ts", "../repeats.ts"), undefined);
  t.is(violation("server.ts", "./protocols/compileRoutes.ts"), undefined);
  t.is(violation("http/app.ts", "koa"), undefined);
  t.deepEqual(
    importsOf(`import a from "./a.ts";\nimport type {\n  B,\n  C,\n} from "../b.ts";\nexport { d } from "./d.ts";\nimport "./e.ts";\nconst f = await import("./f.ts");\nconst s = Buffer.from("x");`),
    ["./a.ts", "../b.ts", "./d.ts", "./e.ts", "./f.ts"],
  );
});
