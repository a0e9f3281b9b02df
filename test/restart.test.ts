import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import pino from "pino";
import { startServer } from "../src/server.ts";
import { send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml } from "./helpers/repo.ts";

// A restart continues from the version index the previous run saved in .git, reading only the
// commits made since; the versions it serves must be exactly those of a whole-history walk.

const SAVED = [".git", "configserver", "versions.json"];

interface Run {
  versions: Record<string, number>;
  versionIndex: { restored: boolean; walked: number } | null;
}

/** Starts the real server on the repository, reads what it serves, and stops it (which saves the index). */
async function run(repo: string): Promise<Run> {
  const server = await startServer({ port: 0, repo, logger: pino({ level: "silent" }) });
  try {
    const status = JSON.parse((await send(server.url, "GET", "/status", "")).body.toString()) as { versionIndex: Run["versionIndex"] };
    const listed = JSON.parse((await send(server.url, "GET", "/api/v1/configs", "")).body.toString()) as { configs: { name: string; version: number }[] };
    const versions = Object.fromEntries(listed.configs.map((c) => [c.name, c.version]));
    return { versions, versionIndex: status.versionIndex };
  } finally {
    await server.close();
  }
}

/** The same repository served with no saved index: the reference. */
async function fresh(repo: string): Promise<Run> {
  const copy = tempDir("cs-restart-ref-");
  git(copy, "clone", "-q", repo, ".");
  const r = await run(copy);
  rmSync(copy, { recursive: true, force: true });
  return r;
}

test("a restart reads only the commits made since the last run, and serves the same versions as a whole walk", async (t) => {
  const repo = tempDir("cs-restart-");
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  git(repo, "init", "-q", "--initial-branch=main");
  commitFiles(repo, { "configs/a.yaml": configYaml("a", "1\n"), "configs/b.yaml": configYaml("b", "1\n"), "agent_groups/g.yaml": groupYaml("g", ["a"]) }, "start");
  for (let i = 2; i <= 4; i++) commitFiles(repo, { "configs/a.yaml": configYaml("a", `${i}\n`) }, `a ${i}`);
  // A merge on the first-parent chain carries a branch's change to b.
  git(repo, "checkout", "-q", "-b", "side");
  commitFiles(repo, { "configs/b.yaml": configYaml("b", "side\n") }, "b on a branch");
  git(repo, "checkout", "-q", "main");
  commitFiles(repo, { "configs/c.yaml": configYaml("c", "1\n") }, "c");
  git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side");

  const first = await run(repo);
  t.deepEqual(first.versionIndex, { restored: false, walked: 6 });
  t.deepEqual(first.versions, { a: 4, b: 6, c: 5 });
  t.true(existsSync(join(repo, ...SAVED)), "the index is saved in .git");
  t.is(git(repo, "status", "--porcelain", "--ignored"), "", "nothing appears in the working tree");

  const again = await run(repo);
  t.deepEqual(again.versionIndex, { restored: true, walked: 0 });
  t.deepEqual(again.versions, first.versions);

  commitFiles(repo, { "configs/b.yaml": configYaml("b", "2\n") }, "b 2");
  commitFiles(repo, { "configs/d.yaml": configYaml("d", "1\n") }, "d");
  const later = await run(repo);
  t.deepEqual(later.versionIndex, { restored: true, walked: 2 });
  t.deepEqual(later.versions, { a: 4, b: 7, c: 5, d: 8 });
  t.deepEqual(later.versions, (await fresh(repo)).versions);
});

test("a saved index that is damaged or no longer on the history is ignored: the whole history is walked", async (t) => {
  const repo = tempDir("cs-restart-");
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  git(repo, "init", "-q", "--initial-branch=main");
  commitFiles(repo, { "configs/a.yaml": configYaml("a", "1\n"), "configs/b.yaml": configYaml("b", "1\n") }, "start");
  for (let i = 2; i <= 4; i++) commitFiles(repo, { "configs/b.yaml": configYaml("b", `${i}\n`) }, `b ${i}`);
  await run(repo);

  for (const damaged of ["{", JSON.stringify({ format: 1, head: "x", depth: 4, committedAt: 0, changes: [] }), JSON.stringify({ format: 1, head: git(repo, "rev-parse", "HEAD").trim(), depth: 4, committedAt: 0, changes: [["configs/a.yaml", 9, "0".repeat(40)]] })]) {
    writeFileSync(join(repo, ...SAVED), damaged);
    const r = await run(repo);
    t.deepEqual(r.versionIndex, { restored: false, walked: 4 }, damaged);
    t.deepEqual(r.versions, { a: 1, b: 4 });
  }

  // History rewritten behind the saved head: it is not on the new first-parent chain.
  git(repo, "reset", "-q", "--hard", "HEAD~2");
  commitFiles(repo, { "configs/a.yaml": configYaml("a", "rewritten\n") }, "rewrite");
  const r = await run(repo);
  t.deepEqual(r.versionIndex, { restored: false, walked: 3 });
  t.deepEqual(r.versions, { a: 3, b: 2 });
  t.deepEqual(r.versions, (await fresh(repo)).versions);
});
