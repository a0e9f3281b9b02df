import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith, writeFiles } from "./helpers/repo.ts";
import { waitFor, withServer, type TestServer } from "./helpers/server.ts";
import { configOf, servedCommit, waitForCommit } from "./helpers/observe.ts";

// API writes are committed without a git process when the repository allows it. These tests hold
// the result to what `git commit` would have left: objects git accepts, an index equal to HEAD,
// reflogs, and a fallback to git itself where the in-process writer does not apply. The committer's
// compare-and-swap, driven directly, is in test/internal/directCommit.test.ts.

const AUTHOR = { name: "Config Bot", email: "bot@example.com" };

async function writer(s: TestServer): Promise<{ mode: string; reason?: string }> {
  const res = await send(s.url, "GET", "/status", "");
  return (JSON.parse(res.body.toString()) as { writer: { mode: string; reason?: string } }).writer;
}

function seeded(files: Record<string, string> = {}): string {
  const repo = repoWith("cs-inproc-", { "README.md": "# configs\n", "configs/base.yaml": configYaml("base", "x\n"), "agent_groups/g0.yaml": groupYaml("g0", []), ...files }, "initial state");
  return repo;
}

/** What `git commit` guarantees, checked with git itself. */
function assertGitAgrees(t: import("ava").ExecutionContext, repo: string, label: string): void {
  t.is(git(repo, "fsck", "--strict", "--no-dangling", "--no-progress"), "", `${label}: fsck`);
  t.is(git(repo, "status", "--porcelain", "--untracked-files=all"), "", `${label}: clean tree`);
  // The index records exactly HEAD's tree: nothing staged, nothing lost.
  t.is(git(repo, "write-tree").trim(), git(repo, "rev-parse", "HEAD^{tree}").trim(), `${label}: index = HEAD`);
}

test("API writes are committed in-process, and git finds the result exactly as `git commit` leaves it", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo, author: AUTHOR });
  const steps: [string, () => Promise<{ body: { code: string } }>, string][] = [
    ["create config", () => s.api.createConfig({ config_detail: { config_name: "c1", content: "a\n" } }), "A\tconfigs/c1.yaml"],
    ["update config", () => s.api.updateConfig({ config_detail: { config_name: "c1", content: "b: \"ü\"\n" } }), "M\tconfigs/c1.yaml"],
    ["create group", () => s.api.createGroup({ agent_group: { group_name: "g1", tags: [{ name: "k", value: "v" }] } }), "A\tagent_groups/g1.yaml"],
    ["apply", () => s.api.apply({ group_name: "g1", config_name: "c1" }), "M\tagent_groups/g1.yaml"],
    ["remove", () => s.api.remove({ group_name: "g1", config_name: "c1" }), "M\tagent_groups/g1.yaml"],
    ["delete group", () => s.api.deleteGroup({ group_name: "g1" }), "D\tagent_groups/g1.yaml"],
    ["delete the folder's last group", () => s.api.deleteGroup({ group_name: "g0" }), "D\tagent_groups/g0.yaml"],
    ["recreate a group in a folder that no longer exists", () => s.api.createGroup({ agent_group: { group_name: "g2" } }), "A\tagent_groups/g2.yaml"],
  ];
  let before = git(repo, "rev-parse", "HEAD").trim();
  for (const [label, run, change] of steps) {
    const body = (await run()).body as { code: string; message?: string };
    if (body.code !== "Accept") t.log(body.message);
    t.is(body.code, "Accept", label);
    t.deepEqual(await writer(s), { mode: "in-process" }, label);
    const head = git(repo, "rev-parse", "HEAD").trim();
    t.deepEqual(git(repo, "show", "--name-status", "--format=", "HEAD").trim().split("\n"), [change], label);
    t.is(git(repo, "rev-parse", "HEAD^").trim(), before, `${label}: parent`);
    t.is(git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>").trim(), "Config Bot <bot@example.com>|Config Bot <bot@example.com>", label);
    const subject = git(repo, "log", "-1", "--format=%s").trim();
    t.true(subject.length > 0, label);
    t.is(git(repo, "reflog", "-1", "--format=%H %gs", "main").trim(), `${head} commit: ${subject}`, `${label}: branch reflog`);
    t.is(git(repo, "reflog", "-1", "--format=%H %gs", "HEAD").trim(), `${head} commit: ${subject}`, `${label}: HEAD reflog`);
    t.is(await servedCommit(s.url), head, `${label}: served`);
    assertGitAgrees(t, repo, label);
    before = head;
  }
  // A deleted folder is gone from the tree, as git never stores an empty one.
  t.deepEqual(git(repo, "ls-tree", "--name-only", "HEAD~1").trim().split("\n"), ["README.md", "configs"]);
  // A person can go on committing with git on top of the server's commits.
  commitFiles(repo, { "configs/by-hand.yaml": configYaml("by-hand", "h\n") }, "by hand");
  await waitForCommit(s.url, git(repo, "rev-parse", "HEAD").trim());
  t.truthy(await configOf(s.url, "by-hand"));
  t.is((await s.api.updateConfig({ config_detail: { config_name: "by-hand", content: "h2\n" } })).body.code, "Accept");
  assertGitAgrees(t, repo, "after a person's commit");
  t.is(Number(git(repo, "rev-list", "--count", "HEAD").trim()), 1 + steps.length + 2);
});

test("a repository with a .gitattributes file is committed by git itself (filters and eol rules apply)", async (t) => {
  const repo = seeded({ ".gitattributes": "*.yaml text eol=lf\n" });
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo, author: AUTHOR });
  t.is((await s.api.createConfig({ config_detail: { config_name: "c1", content: "a\n" } })).body.code, "Accept");
  const w = await writer(s);
  t.is(w.mode, "git");
  t.regex(w.reason ?? "", /\.gitattributes/);
  t.deepEqual(git(repo, "show", "--name-status", "--format=", "HEAD").trim().split("\n"), ["A\tconfigs/c1.yaml"]);
  assertGitAgrees(t, repo, "git fallback");
});

for (const [lockName, lockPath] of [["index.lock", ["index.lock"]], ["main.lock", ["refs", "heads", "main.lock"]]] as const) {
  test(`a ${lockName} another process holds is waited for, then the write is refused with ServerBusy naming it, changing nothing`, async (t) => {
    const repo = seeded();
    t.teardown(() => rmSync(repo, { recursive: true, force: true }));
    const s = await withServer(t, { repo, author: AUTHOR, lockWaitMs: 300 });
    const head = git(repo, "rev-parse", "HEAD").trim();
    const lock = join(repo, ".git", ...lockPath);
    writeFileSync(lock, "");
    const res = await s.api.updateConfig({ config_detail: { config_name: "base", content: "changed\n" } });
    t.is(res.status, 503);
    t.is(res.body.code, "ServerBusy");
    t.true(res.body.message.includes(lockName), res.body.message);
    t.is(git(repo, "rev-parse", "HEAD").trim(), head);
    t.true(existsSync(lock), "someone else's lock is left alone");
    rmSync(lock);
    assertGitAgrees(t, repo, "after the refused write");
    t.is((await configOf(s.url, "base"))?.content, "x\n");
    t.is((await s.api.updateConfig({ config_detail: { config_name: "base", content: "changed\n" } })).body.code, "Accept");
    assertGitAgrees(t, repo, "after the retry");
  });

  test(`a ${lockName} released while the write waits: the write goes through`, async (t) => {
    const repo = seeded();
    t.teardown(() => rmSync(repo, { recursive: true, force: true }));
    const s = await withServer(t, { repo, author: AUTHOR, lockWaitMs: 20_000 });
    const lock = join(repo, ".git", ...lockPath);
    writeFileSync(lock, "");
    const answer = s.api.updateConfig({ config_detail: { config_name: "base", content: "waited\n" } });
    // The write is waiting on the lock (its intent record exists) when the lock goes.
    await waitFor(() => readdirSync(join(repo, ".git", "configserver", "intents")).length > 0);
    rmSync(lock);
    t.is((await answer).body.code, "Accept");
    t.is((await configOf(s.url, "base"))?.content, "waited\n");
    assertGitAgrees(t, repo, "after the wait");
  });
}

test("a reload reads new blobs whether git stored them loose or packed", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo, author: AUTHOR });
  // Loose: a person's fresh commit.
  commitFiles(repo, { "configs/base.yaml": configYaml("base", "loose\n") }, "loose blob");
  await waitForCommit(s.url, git(repo, "rev-parse", "HEAD").trim());
  t.is((await configOf(s.url, "base"))?.content, "loose\n");
  // Packed: the next commit is made without moving the branch, its objects packed (as gc or a
  // large fetch leaves them), and only then does the branch move, so the server never saw them loose.
  writeFiles(repo, { "configs/base.yaml": configYaml("base", "packed\n"), "configs/second.yaml": configYaml("second", "p\n") });
  git(repo, "add", "-A");
  const tree = git(repo, "write-tree").trim();
  const commit = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "packed blobs").trim();
  git(repo, "tag", "packed", commit);
  git(repo, "repack", "-a", "-d", "-q");
  git(repo, "prune-packed");
  t.is(git(repo, "count-objects").trim().split(" ")[0], "0", "no loose objects left");
  git(repo, "update-ref", "refs/heads/main", commit);
  await waitForCommit(s.url, git(repo, "rev-parse", "HEAD").trim());
  t.is((await configOf(s.url, "base"))?.content, "packed\n");
  t.is((await configOf(s.url, "second"))?.content, "p\n");
  // A deletion needs no blob at all.
  git(repo, "rm", "-q", "configs/second.yaml");
  git(repo, "commit", "-q", "-m", "delete second");
  await waitForCommit(s.url, git(repo, "rev-parse", "HEAD").trim());
  t.is(await configOf(s.url, "second"), undefined);
});

test("an empty repository's first commit is made by git, the next ones in-process", async (t) => {
  const s = await withServer(t, { author: AUTHOR });
  t.is((await s.api.createConfig({ config_detail: { config_name: "c1", content: "a\n" } })).body.code, "Accept");
  t.deepEqual(await writer(s), { mode: "git", reason: "the repository's first commit" });
  t.is((await s.api.createConfig({ config_detail: { config_name: "c2", content: "b\n" } })).body.code, "Accept");
  t.deepEqual(await writer(s), { mode: "in-process" });
  assertGitAgrees(t, s.repo, "after both");
  t.is(git(s.repo, "rev-list", "--count", "HEAD").trim(), "2");
});
