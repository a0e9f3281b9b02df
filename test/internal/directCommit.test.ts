// Reads internals: drives the in-process committer (`DirectCommitter`) itself, because a write
// through the server re-plans against the moved branch and so never reaches the committer with a
// stale base; this checks that, given one anyway, it refuses and changes nothing. What the server's
// writes leave is tested from outside in test/inprocess.test.ts.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { Git } from "../../src/store/git.ts";
import { DirectCommitter } from "../../src/store/git/directCommit.ts";
import { RepoConfig } from "../../src/store/repoConfig.ts";
import { ServerFiles } from "../../src/store/serverFiles.ts";
import { git } from "../helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "../helpers/repo.ts";

const AUTHOR = { name: "Config Bot", email: "bot@example.com" };

function seeded(files: Record<string, string> = {}): string {
  return repoWith("cs-inproc-", { "README.md": "# configs\n", "configs/base.yaml": configYaml("base", "x\n"), "agent_groups/g0.yaml": groupYaml("g0", []), ...files }, "initial state");
}

/** What `git commit` guarantees, checked with git itself. */
function assertGitAgrees(t: import("ava").ExecutionContext, repo: string, label: string): void {
  t.is(git(repo, "fsck", "--strict", "--no-dangling", "--no-progress"), "", `${label}: fsck`);
  t.is(git(repo, "status", "--porcelain", "--untracked-files=all"), "", `${label}: clean tree`);
  t.is(git(repo, "write-tree").trim(), git(repo, "rev-parse", "HEAD^{tree}").trim(), `${label}: index = HEAD`);
}

test("the in-process committer moves the branch only from the expected parent", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const old = git(repo, "rev-parse", "HEAD").trim();
  const newer = commitFiles(repo, { "configs/other.yaml": configYaml("other", "o\n") }, "someone else's commit");
  const g = new Git(repo);
  const gitDir = join(repo, ".git");
  const committer = new DirectCommitter({ git: g, files: new ServerFiles(gitDir, repo), lockWaitMs: 100 }, new RepoConfig(g, gitDir));
  const before = readFileSync(join(repo, "configs", "base.yaml"), "utf8");
  const result = await committer.commit({ base: old, files: [{ path: "configs/base.yaml", text: configYaml("base", "late\n") }], before: new Map([["configs/base.yaml", before]]), message: "stale write", author: AUTHOR, committer: AUTHOR });
  t.deepEqual(result, { kind: "moved" });
  t.is(readFileSync(join(repo, "configs", "base.yaml"), "utf8"), before, "no file is written when the branch moved");
  t.is(git(repo, "rev-parse", "HEAD").trim(), newer);
  t.false(existsSync(join(repo, ".git", "index.lock")));
  t.false(existsSync(join(repo, ".git", "refs", "heads", "main.lock")));
  assertGitAgrees(t, repo, "after the refused compare-and-swap");
});
