import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

// The docs a newcomer reads name files; when a file moves, its doc must move with it. These checks
// read the docs as text and the tree as it is (no server).

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where a path named in a doc may start: the repository, src/ (the docs name src/'s units by their folder), and the folders a doc is about. */
const BASES = ["", "src", "src/store", "src/protocols", "config-repo-template"];

/** Named in docs/store.md, but git's own files, not this repository's. */
const NOT_OURS = new Set(["rebase-merge/", "builtin/reset.c"]);

const CHECKED = /\.(ts|tsx|mjs|md|proto|json|sh)$/;

/** Every file of a folder tree (relative), to find a bare file name anywhere under it. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(ROOT, dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== "node_modules" && e.name !== "gen") walk(r);
      } else out.push(r);
    }
  };
  walk("");
  return out;
}

/** The backticked tokens of a doc that look like a path of this repository: a/b.ts, a/, x.ts, test/*.test.ts. */
export function namedPaths(markdown: string): string[] {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/`([^`\s]+)`/g)) {
    const p = m[1] as string;
    if (p.startsWith(".") || p.startsWith("/") || p.startsWith("-") || /[<>=:@…()]/.test(p) || NOT_OURS.has(p)) continue;
    const folder = p.endsWith("/") && /^[\w.-]+(\/[\w.-]+)*\/$/.test(p);
    if (folder || CHECKED.test(p)) out.add(p);
  }
  return [...out];
}

/** Whether a named path exists from one of the bases; a bare file name anywhere under src/, web/ or test/; `*` matches within one name. */
export function exists(p: string, all: () => string[]): boolean {
  const last = p.endsWith("/") ? "" : p.slice(p.lastIndexOf("/") + 1);
  const name = new RegExp(`^${last.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*")}$`);
  if (!p.includes("/")) return all().some((f) => name.test(f.slice(f.lastIndexOf("/") + 1)));
  return BASES.some((base) => {
    if (!p.includes("*")) return existsSync(join(ROOT, base, p));
    const dir = join(ROOT, base, dirname(p));
    return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).some((f) => name.test(f));
  });
}

let cached: string[] | undefined;
const allFiles = () => (cached ??= ["src", "web", "test"].flatMap((d) => filesUnder(d).map((f) => `${d}/${f}`)));

for (const doc of ["docs/architecture.md", "docs/store.md"]) {
  test(`every file and folder ${doc} names exists`, (t) => {
    const named = namedPaths(readFileSync(join(ROOT, doc), "utf8"));
    t.true(named.length > 20, `${doc} names files (found ${named.length})`);
    t.deepEqual(named.filter((p) => !exists(p, allFiles)), [], `${doc} names files the tree does not have`);
  });
}

test("the check can fail: a made-up path is reported, real ones are not", (t) => {
  const named = namedPaths("See `src/http/noSuchFile.ts`, `store/nothere/`, `detect.ts`, `http/app.ts`, `test/*.test.ts`, `test/*.nothing.ts`, `web/src/app.tsx`, `run*.ts`, `nope*.ts`.");
  t.deepEqual(named.filter((p) => !exists(p, allFiles)), ["src/http/noSuchFile.ts", "store/nothere/", "test/*.nothing.ts", "web/src/app.tsx", "nope*.ts"]);
});

/** The README's "Source layout" section. */
function readmeLayout(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("## Source layout");
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end);
}

/** `name/` for a folder, `name` for a file. */
const entry = (dir: string, name: string) => (statSync(join(ROOT, dir, name)).isDirectory() ? `${name}/` : name);

test("the README's layout lists every entry of src/", (t) => {
  const layout = readmeLayout();
  const entries = readdirSync(join(ROOT, "src")).map((n) => `src/${entry("src", n)}`);
  t.true(entries.length > 10);
  t.deepEqual(entries.filter((e) => !layout.includes(e)), []);
});

test("the README's layout lists every folder and file at the top of the repository", (t) => {
  const layout = readmeLayout();
  // What git holds (not node_modules, dist or data a checkout may have).
  const tracked = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
  const top = [...new Set(tracked.map((f) => (f.includes("/") ? `${f.slice(0, f.indexOf("/"))}/` : f)))];
  t.true(top.length > 10);
  t.deepEqual(top.filter((e) => !layout.includes(e)), []);
});
