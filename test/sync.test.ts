import { renameSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { git, tempDir } from "./helpers/git.ts";
import { bareRemote, commitFiles, configYaml, groupYaml } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { configOf, servedCommit, statusOf, versionOf } from "./helpers/observe.ts";

const initial = { "configs/c1.yaml": configYaml("c1", "v1"), "agent_groups/default.yaml": groupYaml("default", ["c1"]) };
const fresh = () => join(tempDir("cs-clone-"), "repo");
const remoteHead = (bare: string) => git(bare, "rev-parse", "main").trim();

interface Status {
  commit: string;
  lastFetchError: string | null;
  lastSync: { ok: boolean; action: string } | null;
  refused: { problems: { file: string; line: number; message: string }[] } | null;
  refusedRewrite: string | null;
}
const status = async (url: string) => JSON.parse(await (await fetch(`${url}/status`)).text()) as Status;

test("a write through server A reaches server B through the remote by polling", async (t) => {
  const { url, bare } = bareRemote(initial);
  const a = await withServer(t, { repo: fresh(), remote: url, syncIntervalMs: 60_000 });
  const b = await withServer(t, { repo: fresh(), remote: url, syncIntervalMs: 200 });
  t.is((await configOf(b.url, "c1"))?.content, "v1");
  const r = await a.api.updateConfig({ config_detail: { config_name: "c1", content: "from A" } });
  t.is(r.body.code, "Accept");
  // Acknowledged means pushed, and the clone knows where the remote branch now is.
  t.is(remoteHead(bare), await servedCommit(a.url));
  t.is(git(a.repo, "rev-parse", "refs/remotes/origin/main").trim(), await servedCommit(a.url));
  await waitFor(async () => (await configOf(b.url, "c1"))?.content === "from A");
  t.is(await versionOf(b.url, "c1"), await versionOf(a.url, "c1"));
});

test("remote unreachable at start and during operation: serves the clone, reports, catches up", async (t) => {
  const { url, bare, person } = bareRemote(initial);
  const repo = fresh();
  git(tempDir(), "clone", "-q", url, repo);
  const away = `${bare}-away`;
  renameSync(bare, away);
  const s = await withServer(t, { repo, remote: url, syncIntervalMs: 100 });
  t.is((await configOf(s.url, "c1"))?.content, "v1");
  const down = await waitFor(async () => {
    const st = await status(s.url);
    return st.lastFetchError && st.lastSync ? st : undefined;
  });
  t.false(down.lastSync?.ok);
  t.regex(down.lastFetchError ?? "", /fetch/);
  // Writes are refused while they cannot be pushed, and leave nothing behind.
  const head = await servedCommit(s.url);
  const w = await s.api.updateConfig({ config_detail: { config_name: "c1", content: "not saved" } });
  t.is(w.status, 503);
  t.is(w.body.code, "ServerBusy");
  t.is(git(repo, "rev-parse", "HEAD").trim(), head);
  t.is(git(repo, "status", "--porcelain"), "");
  renameSync(away, bare);
  commitFiles(person, { "configs/c1.yaml": configYaml("c1", "while down") });
  git(person, "push", "-q", "origin", "main");
  await waitFor(async () => (await configOf(s.url, "c1"))?.content === "while down");
  t.is((await status(s.url)).lastFetchError, null);
});

test("push race: a commit lands on the remote before the push; the write is replayed on top", async (t) => {
  const { url, bare, person } = bareRemote({ ...initial, "configs/c2.yaml": configYaml("c2", "other") });
  const s = await withServer(t, { repo: fresh(), remote: url, syncIntervalMs: 60_000 });
  await waitFor(async () => (await statusOf(s.url)).lastSync); // the start-up sync must not see the racing commit
  commitFiles(person, { "configs/c2.yaml": configYaml("c2", "changed on the remote") });
  git(person, "push", "-q", "origin", "main");
  const r = await s.api.updateConfig({ config_detail: { config_name: "c1", content: "via API" } });
  t.is(r.body.code, "Accept");
  t.is(remoteHead(bare), await servedCommit(s.url));
  t.is((await configOf(s.url, "c1"))?.content, "via API");
  t.is((await configOf(s.url, "c2"))?.content, "changed on the remote");
  t.is(git(s.repo, "status", "--porcelain"), "");
});

test("push race on the same file: answered with an error, both repositories consistent", async (t) => {
  const { url, bare, person } = bareRemote(initial);
  const s = await withServer(t, { repo: fresh(), remote: url, syncIntervalMs: 60_000 });
  await waitFor(async () => (await statusOf(s.url)).lastSync); // the start-up sync must not see the racing commit
  commitFiles(person, { "configs/c1.yaml": configYaml("c1", "remote edit") });
  git(person, "push", "-q", "origin", "main");
  const r = await s.api.updateConfig({ config_detail: { config_name: "c1", content: "api edit" } });
  // A conflict, not a server error: the alpha User API's nearest code is ServerBusy (retry after reading).
  t.is(r.status, 503);
  t.is(r.body.code, "ServerBusy");
  t.regex(r.body.message, /Conflict: configs\/c1\.yaml changed on the remote/);
  t.is(git(s.repo, "rev-parse", "HEAD").trim(), remoteHead(bare));
  t.is((await configOf(s.url, "c1"))?.content, "remote edit");
  t.is(git(s.repo, "status", "--porcelain"), "");
  t.is(git(bare, "log", "--format=%s", "-1", "main").trim(), "change by a person");
});

test("an invalid commit on the remote is not served; status shows file and line; the next good one is", async (t) => {
  const { url, person } = bareRemote(initial);
  const s = await withServer(t, { repo: fresh(), remote: url, syncIntervalMs: 100 });
  commitFiles(person, { "configs/c1.yaml": "config_name: c1\ncontent: [unclosed\n" });
  git(person, "push", "-q", "origin", "main");
  const st = await waitFor(async () => {
    const x = await status(s.url);
    return x.refused ? x : undefined;
  });
  t.is(st.refused?.problems[0]?.file, "configs/c1.yaml");
  t.true((st.refused?.problems[0]?.line ?? 0) >= 2);
  t.is((await configOf(s.url, "c1"))?.content, "v1");
  commitFiles(person, { "configs/c1.yaml": configYaml("c1", "good again") });
  git(person, "push", "-q", "origin", "main");
  await waitFor(async () => (await configOf(s.url, "c1"))?.content === "good again");
  t.is((await status(s.url)).refused, null);
});

for (const allow of [false, true]) {
  test(`rewritten remote history is ${allow ? "followed with --allow-history-rewrite" : "refused by default"}`, async (t) => {
    const { url, person } = bareRemote(initial);
    commitFiles(person, { "configs/c1.yaml": configYaml("c1", "v2") });
    git(person, "push", "-q", "origin", "main");
    const s = await withServer(t, { repo: fresh(), remote: url, syncIntervalMs: 100, allowHistoryRewrite: allow });
    t.is((await configOf(s.url, "c1"))?.content, "v2");
    git(person, "reset", "-q", "--hard", "HEAD~1");
    commitFiles(person, { "configs/c1.yaml": configYaml("c1", "rewritten") });
    git(person, "push", "-q", "--force", "origin", "main");
    if (allow) {
      await waitFor(async () => (await configOf(s.url, "c1"))?.content === "rewritten");
      t.is(await servedCommit(s.url), git(person, "rev-parse", "HEAD").trim());
    } else {
      const st = await waitFor(async () => {
        const x = await status(s.url);
        return x.refusedRewrite ? x : undefined;
      });
      t.regex(st.refusedRewrite ?? "", /rewritten.*--allow-history-rewrite/);
      t.is((await configOf(s.url, "c1"))?.content, "v2");
    }
  });
}

test("an empty remote is cloned; the first write creates its branch", async (t) => {
  const bare = tempDir("cs-bare-");
  git(bare, "init", "-q", "--bare", "--initial-branch=main");
  const s = await withServer(t, { repo: fresh(), remote: `file://${bare}`, syncIntervalMs: 60_000 });
  t.is((await statusOf(s.url)).configs, 0);
  const r = await s.api.createConfig({ config_detail: { config_name: "first", content: "x" } });
  t.is(r.body.code, "Accept");
  t.is(remoteHead(bare), await servedCommit(s.url));
  t.is(git(bare, "show", "main:configs/first.yaml"), "config_name: first\nagent_type: \"\"\ndescription: \"\"\ncontent: x\n");
});

/** A remote whose `prod` branch is an older point of `main` (main has unreleased changes). */
function releaseBranchRemote(): { url: string; bare: string; person: string } {
  const remote = bareRemote(initial);
  git(remote.person, "push", "-q", "origin", "main:prod");
  commitFiles(remote.person, { "configs/c1.yaml": configYaml("c1", "unreleased") }, "unreleased change on main");
  git(remote.person, "push", "-q", "origin", "main");
  return remote;
}

test("--branch follows that branch from a fresh clone, and writes go to it, never to the remote's default branch", async (t) => {
  const { url, bare } = releaseBranchRemote();
  const mainBefore = git(bare, "rev-parse", "main").trim();
  const repo = fresh();
  const s = await withServer(t, { repo, remote: url, branch: "prod", syncIntervalMs: 100 });
  t.is(git(repo, "symbolic-ref", "--short", "HEAD").trim(), "prod");
  t.is((await configOf(s.url, "c1"))?.content, "v1", "prod's content, not main's");
  t.is((await s.api.updateConfig({ config_detail: { config_name: "c1", content: "hotfix" } })).body.code, "Accept");
  t.is(git(bare, "rev-parse", "prod").trim(), await servedCommit(s.url));
  // Syncs keep following prod; main is never pushed to.
  await waitFor(async () => (await status(s.url)).lastSync?.ok === true);
  t.is(git(bare, "rev-parse", "main").trim(), mainBefore);
  t.is((await configOf(s.url, "c1"))?.content, "hotfix");
});

test("an existing clone on another branch than --branch is refused at start, naming both", async (t) => {
  const { url, bare } = releaseBranchRemote();
  const repo = fresh();
  git(tempDir(), "clone", "-q", url, repo);
  const mainBefore = git(bare, "rev-parse", "main").trim();
  const prodBefore = git(bare, "rev-parse", "prod").trim();
  const err = await t.throwsAsync(withServer(t, { repo, remote: url, branch: "prod" }));
  t.regex(err?.message ?? "", /on branch main.*--branch is prod/);
  t.is(git(bare, "rev-parse", "main").trim(), mainBefore);
  t.is(git(bare, "rev-parse", "prod").trim(), prodBefore);
});

test("a remote without the --branch branch is refused at start with the branches it has", async (t) => {
  const { url } = bareRemote(initial);
  const err = await t.throwsAsync(withServer(t, { repo: fresh(), remote: url, branch: "nope" }));
  t.regex(err?.message ?? "", /no branch nope.*main/);
});
