import { rmSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { runCli } from "./helpers/cli.ts";
import { send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { bareRemote, commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { withServer, type TestServer } from "./helpers/server.ts";
import { V2Agent } from "./helpers/v2Agent.ts";
import { servedCommit, statusOf, versionOf, waitForCommit, waitForRefused } from "./helpers/observe.ts";

// Rollback is how an operator repairs a broken commit on the branch (issue 25, point 3): it works
// while HEAD fails validation, and putting back what agents hold reaches them as nothing new.

const A = configYaml("a", "inputs:\n  - Type: input_file\n    FilePaths: [/var/log/a.log]\n");
const B = configYaml("b", "inputs:\n  - Type: input_file\n    FilePaths: [/var/log/b.log]\n");
const BROKEN = "config_name: [unclosed\n";

interface Setup {
  readonly repo: string;
  readonly s: TestServer;
  readonly agent: V2Agent;
  /** The versions the agent holds before anything breaks. */
  readonly held: Record<string, number>;
}

async function setup(t: ExecutionContext): Promise<Setup> {
  const repo = repoWith("cs-rollback-refused-", { "configs/a.yaml": A, "configs/b.yaml": B, "agent_groups/prod.yaml": groupYaml("prod", ["a", "b"], [["env", "prod"]]) }, "start");
  commitFiles(repo, { "configs/a.yaml": A.replace("a.log", "a2.log") }, "a 2");
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const s = await withServer(t, { repo });
  const agent = new V2Agent(s.url, "node-1", { env: "prod" });
  t.teardown(() => agent.cleanup());
  await agent.cycle();
  agent.load();
  const held = Object.fromEntries([...agent.pipelines.values()].map((c) => [c.name, c.version]));
  t.deepEqual(held, { a: 2, b: 1 });
  return { repo, s, agent, held };
}

/** A person's commit; returns once the server has seen (and refused) it. */
async function breakHead(s: TestServer, files: Record<string, string>): Promise<string> {
  const bad = commitFiles(s.repo, files, "a broken change");
  await waitForRefused(s.url, bad);
  return bad;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

interface HistoryJson {
  currentVersion: number | null;
  versions: { version: number; commit: string; served?: boolean; refused?: string[]; keeps?: string }[];
}

test("API: rollback on a refused HEAD repairs it in one commit; agents that never saw the bad content get nothing; history marks it all", async (t) => {
  const { s, agent, held } = await setup(t);
  const good = await servedCommit(s.url);
  const bad = await breakHead(s, { "configs/a.yaml": BROKEN });

  // History lists the refused change (with why) and marks the served version.
  const before = (await (await fetch(`${s.url}/api/v1/configs/a/history`)).json()) as HistoryJson;
  t.is(before.currentVersion, 2);
  t.is(before.versions[0]?.commit, bad);
  t.regex(before.versions[0]?.refused?.[0] ?? "", /configs\/a\.yaml/);
  t.falsy(before.versions[0]?.served);
  t.like(before.versions[1], { version: 2, served: true });
  t.falsy(before.versions[1]?.refused);

  // Other writes are still refused, naming the way out.
  const other = await post(`${s.url}/api/v1/configs/b/rollback`, { version: 99 });
  t.is(other.status, 404);

  const r = await post(`${s.url}/api/v1/configs/a/rollback`, { version: 2 });
  const body = (await r.json()) as { message: string; commit: string; version: number; stillRefused?: unknown };
  t.is(r.status, 200, body.message);
  t.is(body.message, "Rolled back config a to version 2");
  t.is(body.stillRefused, undefined);
  // One commit on top of the broken one, restoring the file byte for byte.
  t.is(git(s.repo, "rev-parse", "HEAD").trim(), body.commit);
  t.is(git(s.repo, "rev-parse", "HEAD^").trim(), bad);
  t.is(git(s.repo, "show", "HEAD:configs/a.yaml"), git(s.repo, "show", `${good}:configs/a.yaml`));
  t.regex(git(s.repo, "log", "-1", "--format=%B"), /\nKeeps-Version: configs\/a\.yaml [0-9a-f]{40}\n/);
  t.is(git(s.repo, "status", "--porcelain"), "");
  // The version agents hold did not change: they are told nothing.
  t.is(body.version, held.a!);
  t.is((await statusOf(s.url)).refused, null);
  t.is(await servedCommit(s.url), body.commit);
  t.is(await versionOf(s.url, "a"), held.a!);
  const cycle = await agent.cycle();
  t.deepEqual(cycle.pipelineUpdates, []);
  t.deepEqual(Object.fromEntries([...agent.pipelines.values()].map((c) => [c.name, c.version])), held);

  // History: the rollback keeps version 2 and is the served one; the broken change stays marked.
  const after = (await (await fetch(`${s.url}/api/v1/configs/a/history`)).json()) as HistoryJson;
  t.like(after.versions[0], { version: 2, commit: body.commit, served: true, keeps: git(s.repo, "rev-parse", "HEAD~2").trim() });
  t.is(after.versions[1]?.commit, bad);
  t.truthy(after.versions[1]?.refused);
  // The console's diff of the kept version compares with the version before it, past the refused one.
  const diff = (await (await fetch(`${s.url}/api/v1/configs/a/diff?to=2`)).json()) as { from: { version: number } | null; to: { commit: string } };
  t.is(diff.to.commit, body.commit);
  t.is(diff.from?.version, 1);
  // A fresh server (a whole walk of the history, no saved index) computes the same versions.
  await s.close();
  rmSync(`${s.repo}/.git/configserver`, { recursive: true, force: true });
  const again = await withServer(t, { repo: s.repo });
  t.is(await versionOf(again.url, "a"), held.a!);
  agent.pointAt(again.url);
  t.deepEqual((await agent.cycle()).pipelineUpdates, []);
});

test("API: when the rest of HEAD is still broken the answer says what, and the last good commit stays served until it is fixed", async (t) => {
  const { s, agent, held } = await setup(t);
  const good = await servedCommit(s.url);
  await breakHead(s, { "configs/a.yaml": BROKEN, "configs/b.yaml": "config_name: b\nagent_type: ilogtail\ncontent: [1\n" });

  const r = await post(`${s.url}/api/v1/configs/a/rollback`, { version: 2 });
  const body = (await r.json()) as { message: string; commit: string; version: number; stillRefused?: { commit: string; problems: string[] } };
  t.is(r.status, 200, body.message);
  t.is(body.stillRefused?.commit, body.commit);
  t.true(body.stillRefused?.problems.some((p) => p.includes("configs/b.yaml")));
  t.false(body.stillRefused?.problems.some((p) => p.includes("configs/a.yaml")));
  t.regex(body.message, new RegExp(`^Rolled back config a to version 2; HEAD ${body.commit.slice(0, 12)} still fails validation, so the server keeps serving commit ${good.slice(0, 12)} until it is fixed \\(1 problem\\(s\\): configs/b\\.yaml`));
  t.is(body.version, held.a!);
  t.is(await servedCommit(s.url), good);
  t.deepEqual((await agent.cycle()).pipelineUpdates, []);

  // Rolling a back again changes nothing and says HEAD is still broken.
  const same = await post(`${s.url}/api/v1/configs/a/rollback`, { version: 2 });
  const sameBody = (await same.json()) as { message: string; commit: string | null };
  t.is(same.status, 200);
  t.is(sameBody.commit, null);
  t.regex(sameBody.message, /^Config a already equals version 2; nothing to commit; HEAD [0-9a-f]{12} still fails validation/);

  // The second rollback repairs HEAD: served again, and agents still get nothing.
  const rb = await post(`${s.url}/api/v1/configs/b/rollback`, { version: 1 });
  const rbBody = (await rb.json()) as { message: string; commit: string; version: number; stillRefused?: unknown };
  t.is(rb.status, 200, rbBody.message);
  t.is(rbBody.stillRefused, undefined);
  t.is(await servedCommit(s.url), rbBody.commit);
  t.deepEqual((await agent.cycle()).pipelineUpdates, []);
  t.deepEqual(Object.fromEntries([...agent.pipelines.values()].map((c) => [c.name, c.version])), held);

  // Rolling back to an older version than the served one is a new version, which agents receive.
  const older = await post(`${s.url}/api/v1/configs/a/rollback`, { version: 1 });
  const olderBody = (await older.json()) as { version: number };
  t.true(olderBody.version > held.a!);
  t.deepEqual((await agent.cycle()).pipelineUpdates, [{ name: "a", version: olderBody.version }]);
});

test("CLI: rollback --server (with --author and --message) and --repo repair a refused HEAD; history marks served and refused versions", async (t) => {
  const { s, agent, held } = await setup(t);
  const bad = await breakHead(s, { "configs/a.yaml": BROKEN });

  const remote = await runCli(["rollback", "a", "--to", "2", "--server", s.url, "--author", "José Ops <ops@example.com>", "--message", "repair the broken a"]);
  t.is(remote.code, 0, remote.stderr);
  t.regex(remote.stdout, /^Rolled back config a to version 2: new commit [0-9a-f]{12}, version 2\.\n$/);
  t.is(git(s.repo, "log", "-1", "--format=%an <%ae>|%s"), "José Ops <ops@example.com>|repair the broken a\n");
  t.is(git(s.repo, "rev-parse", "HEAD^").trim(), bad);
  t.deepEqual((await agent.cycle()).pipelineUpdates, []);

  const badAuthor = await runCli(["rollback", "a", "--to", "2", "--server", s.url, "--author", "\u0007"]);
  t.is(badAuthor.code, 2);
  t.regex(badAuthor.stderr, /--author .* is refused: it contains a control character/);

  // Local: no server running.
  await s.close();
  const bad2 = commitFiles(s.repo, { "configs/a.yaml": BROKEN }, "broken again");
  const history = await runCli(["history", "a", "--repo", s.repo]);
  t.is(history.code, 0, history.stderr);
  const lines = history.stdout.split("\n");
  t.regex(lines[2] ?? "", new RegExp(`^-?\\d+ +${bad2.slice(0, 12)} .*\\[refused: configs/a\\.yaml`));
  t.regex(lines[3] ?? "", /^2 +[0-9a-f]{12} .*\[served\] \[same content as [0-9a-f]{12}: version kept\] repair the broken a$/);
  t.regex(lines[4] ?? "", new RegExp(`${bad.slice(0, 12)} .*\\[refused: `));
  const json = JSON.parse((await runCli(["history", "a", "--repo", s.repo, "--format", "json"])).stdout) as HistoryJson;
  t.deepEqual(json.versions.map((v) => [v.version, Boolean(v.served), Boolean(v.refused)]), [[5, false, true], [2, true, false], [3, false, true], [2, false, false], [1, false, false]]);

  const local = await runCli(["rollback", "a", "--to", "2", "--repo", s.repo, "--message", "repair again"]);
  t.is(local.code, 0, local.stderr);
  t.regex(local.stdout, /^Rolled back config a to version 2 \(commit [0-9a-f]{12}\): new commit [0-9a-f]{12}, version 2\.\n$/);
  t.is(git(s.repo, "log", "-1", "--format=%s"), "repair again\n");

  const restarted = await withServer(t, { repo: s.repo });
  t.is((await statusOf(restarted.url)).refused, null);
  agent.pointAt(restarted.url);
  t.deepEqual((await agent.cycle()).pipelineUpdates, []);
  t.deepEqual(Object.fromEntries([...agent.pipelines.values()].map((c) => [c.name, c.version])), held);
});

test("with a remote: the repair is pushed on top of the broken commit, and another server following the remote serves the same kept version", async (t) => {
  const { url, bare, person } = bareRemote({ "configs/a.yaml": A, "configs/b.yaml": B, "agent_groups/prod.yaml": groupYaml("prod", ["a", "b"], [["env", "prod"]]) });
  t.teardown(() => [bare, person].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const clone = () => join(tempDir("cs-clone-"), "repo");
  const s = await withServer(t, { repo: clone(), remote: url, syncIntervalMs: 3_600_000, webhookSecret: "hook-secret" });
  const other = await withServer(t, { repo: clone(), remote: url, syncIntervalMs: 100 });
  const held = await versionOf(s.url, "a");
  commitFiles(person, { "configs/a.yaml": BROKEN }, "a broken change");
  git(person, "push", "-q", "origin", "main");
  const bad = git(person, "rev-parse", "HEAD").trim();
  // The remote's push webhook makes it sync now (its poll is an hour away).
  const hook = await send(s.url, "POST", "/hooks/git", "{}", { "content-type": "application/json", "x-gitlab-event": "Push Hook", "x-gitlab-token": "hook-secret" });
  t.is(hook.status, 202);
  t.is((await waitForRefused(s.url, bad)).commit, bad);

  const r = await post(`${s.url}/api/v1/configs/a/rollback`, { version: held });
  const body = (await r.json()) as { message: string; commit: string; version: number };
  t.is(r.status, 200, body.message);
  t.is(git(bare, "rev-parse", "main").trim(), body.commit, "acknowledged means pushed");
  t.is(git(bare, "rev-parse", "main^").trim(), bad);
  t.is(body.version, held!);
  await waitForCommit(other.url, body.commit);
  t.is((await statusOf(other.url)).refused, null);
  t.is(await versionOf(other.url, "a"), held);
});
