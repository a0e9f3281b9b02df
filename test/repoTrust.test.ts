import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { configOf, servedCommit, statusOf, waitForRefused } from "./helpers/observe.ts";

const initial = { "configs/app.yaml": configYaml("app", "v1"), "agent_groups/default.yaml": groupYaml("default", ["app"]) };

/** A folder outside the repository holding one config file, as a link target. */
function outside(): string {
  const dir = tempDir("cs-outside-");
  writeFileSync(join(dir, "stolen.yaml"), configYaml("stolen", "from outside the repository"));
  return dir;
}

test("configs committed as a symbolic link to a folder outside the repository is refused with a problem; the last good commit stays served", async (t) => {
  // No group names a config: on its own, a tree without configs would be valid (and was served).
  const repo = repoWith("cs-trust-", { "configs/app.yaml": configYaml("app", "v1"), "agent_groups/default.yaml": groupYaml("default", []) });
  const s = await withServer(t, { repo, syncIntervalMs: 100 });
  const good = await servedCommit(s.url);
  const target = outside();
  git(repo, "rm", "-q", "-r", "configs");
  symlinkSync(target, join(repo, "configs"));
  git(repo, "add", "configs");
  git(repo, "commit", "-q", "-m", "configs is a link");
  const head = git(repo, "rev-parse", "HEAD").trim();
  const refused = await waitForRefused(s.url, head);
  t.true(refused.problems.some((p) => p.file === "configs" && /symbolic link/.test(p.message)), JSON.stringify(refused.problems));
  t.is(await servedCommit(s.url), good);
  t.is((await configOf(s.url, "app"))?.content, "v1");
  t.is(await configOf(s.url, "stolen"), undefined);

  // An API write lands nowhere outside the repository (and says why it cannot be made).
  const r = await s.api.createConfig({ config_detail: { config_name: "evil", content: "x" } });
  t.not(r.body.code, "Accept");
  t.deepEqual(readdirSync(target), ["stolen.yaml"]);
  t.is(git(repo, "rev-parse", "HEAD").trim(), head);

  // `validate` refuses it too, reading nothing through the link (working tree and --head).
  const cli = await runCli(["validate", repo]);
  t.is(cli.code, 1, cli.stdout + cli.stderr);
  t.regex(cli.stdout, /configs.*symbolic link/);
  t.notRegex(cli.stdout, /stolen/);
  const atHead = await runCli(["validate", repo, "--head", "HEAD"]);
  t.is(atHead.code, 1, atHead.stdout + atHead.stderr);
  t.regex(atHead.stdout, /configs.*symbolic link/);
});

test("a state file committed as a symbolic link is refused; a link made in the working tree is never written through", async (t) => {
  const repo = repoWith("cs-trust-", initial);
  const s = await withServer(t, { repo, syncIntervalMs: 100 });
  const target = outside();
  symlinkSync(join(target, "stolen.yaml"), join(repo, "configs", "linked.yaml"));
  git(repo, "add", "configs/linked.yaml");
  git(repo, "commit", "-q", "-m", "a linked config");
  const head = git(repo, "rev-parse", "HEAD").trim();
  const refused = await waitForRefused(s.url, head);
  t.true(refused.problems.some((p) => p.file === "configs/linked.yaml" && /symbolic link/.test(p.message)));
  git(repo, "reset", "-q", "--hard", "HEAD~1");
  await waitFor(async () => (await statusOf(s.url)).refused === null);

  // A person swaps the agent_groups folder for a link, uncommitted: writes refuse, nothing lands outside.
  const groupsOutside = tempDir("cs-outside-");
  rmSync(join(repo, "agent_groups"), { recursive: true });
  symlinkSync(groupsOutside, join(repo, "agent_groups"));
  const r = await s.api.createGroup({ agent_group: { group_name: "g1", description: "", tags: [] } });
  t.is(r.body.code, "Forbidden");
  t.regex(r.body.message, /agent_groups .*symbolic link/);
  t.deepEqual(readdirSync(groupsOutside), []);
  // A config write through the real configs folder still works.
  rmSync(join(repo, "agent_groups"));
  git(repo, "checkout", "--", "agent_groups");
  const ok = await s.api.createConfig({ config_detail: { config_name: "fine", content: "y" } });
  t.is(ok.body.code, "Accept");
});

test("the repository's hooks and fsmonitor never run: core.hooksPath into the working tree, core.fsmonitor a script", async (t) => {
  const repo = repoWith("cs-trust-", initial);
  const markers = tempDir("cs-markers-");
  const hooks = join(repo, ".githooks");
  mkdirSync(hooks);
  for (const name of ["pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-index-change", "reference-transaction", "post-checkout", "post-merge", "pre-push", "pre-auto-gc", "post-rewrite"]) {
    writeFileSync(join(hooks, name), `#!/bin/sh\ntouch "${markers}/${name}"\nexit 0\n`);
    chmodSync(join(hooks, name), 0o755);
  }
  writeFileSync(join(repo, "fsmonitor.sh"), `#!/bin/sh\ntouch "${markers}/fsmonitor"\nexit 1\n`);
  chmodSync(join(repo, "fsmonitor.sh"), 0o755);
  commitFiles(repo, {}, "hooks and a monitor come with the repository");
  git(repo, "config", "core.hooksPath", ".githooks");
  git(repo, "config", "core.fsmonitor", join(repo, "fsmonitor.sh"));
  // The repository really runs them for git itself (so the check below can fail).
  git(repo, "status", "--porcelain");
  t.true(existsSync(join(markers, "fsmonitor")));
  for (const m of readdirSync(markers)) rmSync(join(markers, m));

  const s = await withServer(t, { repo, syncIntervalMs: 100 });
  for (let i = 0; i < 3; i++) t.is((await s.api.createConfig({ config_detail: { config_name: `c${i}`, content: "x" } })).body.code, "Accept");
  // And through git's own plumbing (taken when attributes exist): update-ref, update-index, commit-tree.
  writeFileSync(join(repo, ".git", "info", "attributes"), "*.md text\n");
  t.is((await s.api.updateConfig({ config_detail: { config_name: "c0", content: "y" } })).body.code, "Accept");
  t.is((await statusOf(s.url)).writer.mode, "git");
  // The watcher's git status runs on an edit of the working tree; a sync runs on its interval.
  writeFileSync(join(repo, "configs", "app.yaml"), configYaml("app", "edited"));
  const lastSyncAt = async () => Date.parse((await statusOf(s.url)).lastSync?.at ?? "1970-01-01T00:00:00Z");
  const syncs = await lastSyncAt();
  await waitFor(async () => (await lastSyncAt()) > syncs);
  t.deepEqual(readdirSync(markers), []);
  t.is(git(repo, "log", "--format=%s", "-1").trim(), "Update config c0");
});

test("a state folder committed as a plain file is a problem too (server and validate)", async (t) => {
  const repo = repoWith("cs-trust-", { "configs/app.yaml": configYaml("app", "v1"), "agent_groups/default.yaml": groupYaml("default", []) });
  const s = await withServer(t, { repo, syncIntervalMs: 100 });
  git(repo, "rm", "-q", "-r", "configs");
  const head = commitFiles(repo, { configs: "not a folder\n" }, "configs is a file");
  const refused = await waitForRefused(s.url, head);
  t.true(refused.problems.some((p) => p.file === "configs" && /is a file, not a folder/.test(p.message)), JSON.stringify(refused.problems));
  for (const args of [[repo], [repo, "--head", "HEAD"]]) {
    const cli = await runCli(["validate", ...args]);
    t.is(cli.code, 1, cli.stdout + cli.stderr);
    t.regex(cli.stdout, /configs is a file, not a folder/);
  }
});
