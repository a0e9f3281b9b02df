import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { indexStat, patchIndex } from "../src/store/git/gitIndex.ts";
import { send } from "./helpers/client.ts";
import { git, personEnv, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { assertRepoClean } from "./helpers/repoChecks.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { configOf, servedCommit } from "./helpers/observe.ts";

// The in-process writer does what git does, or leaves it to git (issue 10, points 5 and 9).

function seeded(files: Record<string, string> = {}): string {
  const repo = repoWith("cs-faithful-", { "configs/base.yaml": configYaml("base", "x\n"), "agent_groups/g.yaml": groupYaml("g", []), ...files }, "initial state");
  return repo;
}

async function writerMode(url: string): Promise<{ mode: string; reason?: string }> {
  return (JSON.parse((await send(url, "GET", "/status", "")).body.toString()) as { writer: { mode: string; reason?: string } }).writer;
}

const blobId = (content: string) => createHash("sha1").update(`blob ${Buffer.byteLength(content)}\0${content}`).digest("hex");

test("git gc --prune=now between writes, and gc running all the time beside them (the server's own gc --auto, and a person's): no write fails", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo, syncIntervalMs: 50 });
  const write = async (i: number) => {
    const r = await s.api.updateConfig({ config_detail: { config_name: "base", content: `v${i}\n` } });
    t.is(r.status, 200, `write ${i}: ${r.body.message}`);
    const c = await s.api.createConfig({ config_detail: { config_name: `c${i}`, content: `c${i}\n` } });
    t.is(c.status, 200, `create ${i}: ${c.body.message}`);
  };
  for (let i = 0; i < 6; i++) {
    await write(i);
    git(repo, "gc", "--force", "--prune=now", "--quiet");
  }
  // Now the server's gc --auto (after every sync, every ~50 ms here) must run each time: two
  // unreachable loose objects in objects/17 keep it above gc.auto=1, and gc.logExpiry=now keeps
  // the warning it leaves in gc.log from stopping the next one.
  git(repo, "config", "gc.auto", "1");
  git(repo, "config", "gc.logExpiry", "now");
  for (let n = 0, found = 0; found < 2; n++) {
    const text = `unreachable ${n}\n`;
    if (!blobId(text).startsWith("17")) continue;
    writeFileSync(join(repo, ".git", "blob.tmp"), text);
    git(repo, "hash-object", "-w", ".git/blob.tmp");
    found++;
  }
  rmSync(join(repo, ".git", "blob.tmp"));
  for (let i = 6; i < 12; i++) await write(i);
  await waitFor(() => existsSync(join(repo, ".git", "gc.log")), { timeoutMs: 10_000 });
  t.pass("the server's detached gc --auto ran (it leaves its warning in gc.log)");
  // And a person's `git gc` in a loop: repack, prune-packed (which removes the object folders
  // the writer writes into), pack-refs (which takes the branch's lock) while the writes go on.
  let writing = true;
  let gcs = 0;
  const gcLoop = (async () => {
    while (writing) {
      await new Promise<void>((resolve) => execFile("git", ["gc", "--force", "--quiet"], { cwd: repo, env: personEnv }, () => resolve()));
      gcs++;
    }
  })();
  try {
    for (let i = 12; i < 18; i++) await write(i);
  } finally {
    writing = false;
    await gcLoop;
  }
  t.true(gcs >= 2, `${gcs} gc runs beside the writes`);
  t.is((await configOf(s.url, "base"))?.content, "v17\n");
  t.is(await servedCommit(s.url), git(repo, "rev-parse", "HEAD").trim());
  // No more syncs, so no more gc --auto; the last detached one finishes, and git finds all well.
  await s.close();
  await waitFor(() => !existsSync(join(repo, ".git", "gc.pid")) && !existsSync(join(repo, ".git", "gc.log.lock")));
  assertRepoClean(t, repo, "after gc");
});

test("a branch with a slash whose folder git pack-refs --all --prune removed: writes succeed", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  git(repo, "checkout", "-q", "-b", "team/configs");
  git(repo, "pack-refs", "--all", "--prune");
  t.false(existsSync(join(repo, ".git", "refs", "heads", "team")), "the folder is gone");
  const s = await withServer(t, { repo });
  for (let i = 0; i < 2; i++) {
    const r = await s.api.updateConfig({ config_detail: { config_name: "base", content: `team ${i}\n` } });
    t.is(r.status, 200, r.body.message);
    t.deepEqual(await writerMode(s.url), { mode: "in-process" });
  }
  t.is(git(repo, "rev-parse", "team/configs").trim(), await servedCommit(s.url));
  t.is(git(repo, "log", "-1", "--format=%s", "team/configs").trim(), "Update config base");
  assertRepoClean(t, repo, "after writes to team/configs");
});

test("core.logAllRefUpdates=false set while the server runs: existing reflogs still get the commit (git's rule), missing ones are not created", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo });
  git(repo, "config", "core.logAllRefUpdates", "false");
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "logged\n" } })).status, 200);
  const head = git(repo, "rev-parse", "HEAD").trim();
  t.is(git(repo, "reflog", "-1", "--format=%H %gs", "main").trim(), `${head} commit: Update config base`);
  t.is(git(repo, "reflog", "-1", "--format=%H", "HEAD").trim(), head);
  rmSync(join(repo, ".git", "logs"), { recursive: true });
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "not logged\n" } })).status, 200);
  t.false(existsSync(join(repo, ".git", "logs", "refs", "heads", "main")));
  t.false(existsSync(join(repo, ".git", "logs", "HEAD")));
  t.deepEqual(await writerMode(s.url), { mode: "in-process" });
});

test("repository config changed while the server runs is followed from the next write (core.autocrlf on, then off)", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo });
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "1\n" } })).status, 200);
  t.deepEqual(await writerMode(s.url), { mode: "in-process" });
  git(repo, "config", "core.autocrlf", "input");
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "2\n" } })).status, 200);
  t.deepEqual(await writerMode(s.url), { mode: "git", reason: "core.autocrlf=input" });
  git(repo, "config", "--unset", "core.autocrlf");
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "3\n" } })).status, 200);
  t.deepEqual(await writerMode(s.url), { mode: "in-process" });
  assertRepoClean(t, repo, "after the switches");
});

test("a reused loose object is freshened, as git does, so a concurrent prune keeps it", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo });
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "again\n" } })).status, 200);
  const blob = git(repo, "rev-parse", "HEAD:configs/base.yaml").trim();
  const file = join(repo, ".git", "objects", blob.slice(0, 2), blob.slice(2));
  const old = new Date("2020-01-01T00:00:00Z");
  utimesSync(file, old, old);
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "other\n" } })).status, 200);
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "again\n" } })).status, 200);
  t.is(git(repo, "rev-parse", "HEAD:configs/base.yaml").trim(), blob, "the same blob is reused");
  t.true(statSync(file).mtimeMs > old.getTime() + 1000, "and its mtime is now");
});

test("an untouched racily clean index entry stays visible as changed after an in-process commit (git's racy-git smudging)", async (t) => {
  const repo = seeded({ "configs/p.yaml": configYaml("p", "aaaa\n") });
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo });
  // A person's edit of p.yaml in the same clock tick as the index was written: same size, and the
  // index records the file's current stat with the old blob (what a racy `git add` leaves).
  const p = join(repo, "configs", "p.yaml");
  const committed = readFileSync(p, "utf8");
  writeFileSync(p, committed.replace("aaaa", "bbbb"));
  const tick = Math.floor(Date.now() / 1000) - 5;
  utimesSync(p, tick, tick);
  const index = join(repo, ".git", "index");
  const forged = patchIndex(readFileSync(index), new Map([["configs/p.yaml", { id: Buffer.from(blobId(committed), "hex"), stat: indexStat(lstatSync(p, { bigint: true })) }]]));
  if (!forged) return t.fail("cannot patch the index");
  writeFileSync(index, forged);
  utimesSync(index, tick, tick);
  t.is(git(repo, "--no-optional-locks", "status", "--porcelain").trim(), "M configs/p.yaml", "git sees the edit (the entry is racy)");
  utimesSync(index, tick, tick);
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "written\n" } })).status, 200);
  t.deepEqual(await writerMode(s.url), { mode: "in-process" });
  // The new index is newer than p.yaml: without smudging its entry, git would call it clean.
  t.is(git(repo, "--no-optional-locks", "status", "--porcelain").trim(), "M configs/p.yaml", "git still sees the edit");
  t.is(git(repo, "diff", "--stat").trim().split("\n").length, 2);
});

test("a merge in progress in the server's repository: writes answer ServerBusy naming it, and go through once it is concluded", async (t) => {
  const repo = seeded({ "README.md": "base\n" });
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  git(repo, "checkout", "-q", "-b", "side");
  commitFiles(repo, { "README.md": "side\n" }, "side");
  git(repo, "checkout", "-q", "main");
  commitFiles(repo, { "README.md": "main\n" }, "main");
  const s = await withServer(t, { repo });
  t.throws(() => git(repo, "merge", "-q", "side"), undefined, "the merge stops on a conflict");
  t.true(existsSync(join(repo, ".git", "MERGE_HEAD")));
  const r = await s.api.updateConfig({ config_detail: { config_name: "base", content: "during\n" } });
  t.is(r.status, 503);
  t.is(r.body.code, "ServerBusy");
  t.regex(r.body.message, /a merge is in progress .*MERGE_HEAD.*git merge --abort/);
  git(repo, "merge", "--abort");
  t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "after\n" } })).status, 200);
  assertRepoClean(t, repo, "after the merge");
});

test("the tests' git and the servers they start ignore the machine's global git config", async (t) => {
  const repo = seeded();
  const home = tempDir("cs-home-");
  t.teardown(() => {
    rmSync(repo, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  mkdirSync(join(home, ".config", "git"), { recursive: true });
  writeFileSync(join(home, ".gitconfig"), "[core]\n\tautocrlf = true\n");
  for (const [label, env, mode] of [
    ["isolated (the tests' environment)", { HOME: home }, "in-process"],
    ["reading that home's config (the control)", { HOME: home, GIT_CONFIG_GLOBAL: join(home, ".gitconfig") }, "git"],
  ] as const) {
    const p = serveProcess(["--repo", repo, "--port", "0"], env);
    t.teardown(() => p.child.kill("SIGKILL"));
    const url = await p.url();
    const api = (await import("./helpers/client.ts")).client(url);
    t.is((await api.updateConfig({ config_detail: { config_name: "base", content: label } })).status, 200);
    t.is((await writerMode(url)).mode, mode, label);
    p.child.kill("SIGTERM");
    await p.exited;
  }
});
