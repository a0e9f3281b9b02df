import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { client, num, send } from "./helpers/client.ts";
import { git, personEnv, tempDir } from "./helpers/git.ts";
import { configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { assertRepoClean, leftovers } from "./helpers/repoChecks.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor } from "./helpers/server.ts";

// People keep using git in the server's repository while it writes (issue 10, points 6 and 8).

function seeded(files: Record<string, string> = {}): string {
  const repo = repoWith("cs-interleave-", { "configs/x.yaml": configYaml("x", "x0\n"), "agent_groups/g.yaml": groupYaml("g", ["x"], [["k", "v"]]), ...files }, "initial state");
  return repo;
}

/** A person's git command, asynchronous (the server and the writers keep running meanwhile). */
function personGit(repo: string, ...args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile("git", args, { cwd: repo, env: personEnv }, (err) => resolve(!err)));
}

async function versions(url: string): Promise<Record<string, number>> {
  const r = await client(url).configList({ agent_id: "a", tags: { k: "v" }, config_versions: {} });
  return Object.fromEntries(r.body.config_update_infos.map((i) => [i.config_name ?? "", num(i.config_version)]));
}

/** The real server process on a seeded repository, both removed after the test. */
async function served(t: ExecutionContext): Promise<{ repo: string; url: string; api: ReturnType<typeof client>; server: ReturnType<typeof serveProcess> }> {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const p = serveProcess(["--repo", repo, "--port", "0"]);
  t.teardown(() => p.child.kill("SIGKILL"));
  const url = await p.url();
  return { repo, url, api: client(url), server: p };
}

async function servedCommit(url: string): Promise<string | null> {
  return (JSON.parse((await send(url, "GET", "/status", "")).body.toString()) as { commit: string | null }).commit;
}

test("a person's git commit and git reset --hard among API writes for 30 s: no acknowledged write lost, no answer 500, HEAD served at the end", async (t) => {
  const { repo, url, api, server } = await served(t);
  const until = Date.now() + 30_000;
  const acked = new Map<string, string>();
  const statuses = new Map<number, number>();
  const writers = Array.from({ length: 2 }, async (_, w) => {
    for (let n = 0; Date.now() < until; n++) {
      const name = `api-${w}-${n % 20}`;
      const content = `writer ${w} write ${n}\n`;
      const r = acked.has(name) ? await api.updateConfig({ config_detail: { config_name: name, content } }) : await api.createConfig({ config_detail: { config_name: name, content } });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) acked.set(name, content);
      else t.log(r.status, r.body.message);
    }
  });
  let commits = 0;
  let resets = 0;
  const person = (async () => {
    for (let n = 0; Date.now() < until; n++) {
      if (n % 3 === 2) {
        // Discards uncommitted changes; fails (as git does) while the server holds index.lock.
        if (await personGit(repo, "reset", "-q", "--hard")) resets++;
        continue;
      }
      const file = `configs/person-${n % 5}.yaml`;
      writeFileSync(join(repo, file), configYaml(`person-${n % 5}`, `person ${n}\n`));
      // A person retries what failed on a lock the server held.
      for (let attempt = 0; attempt < 20; attempt++) {
        if ((await personGit(repo, "add", file)) && (await personGit(repo, "commit", "-q", "-m", `person ${n}`, "--", file))) {
          commits++;
          break;
        }
      }
    }
  })();
  await Promise.all([...writers, person]);
  t.log(`${acked.size} configs written, answers by status ${JSON.stringify([...statuses])}, ${commits} commits and ${resets} resets by the person`);
  t.false(statuses.has(500), "no answer 500");
  t.true(commits > 5 && resets > 2, "the person really worked beside the writes");
  const head = git(repo, "rev-parse", "HEAD").trim();
  await waitFor(async () => (await servedCommit(url)) === head);
  // `git reset --hard` can rewind a commit the server makes while it runs (git's own race); the
  // server brings such a commit back (rewoundWrites.ts), so every acknowledged write is in HEAD.
  for (const [name, content] of acked) t.is((await api.getConfig({ config_name: name })).body.config_detail?.content, content, `acknowledged ${name}`);
  const restores = server.logs.filter((l) => l.rewoundTo !== undefined);
  t.log(`${restores.length} server commit(s) rewound by a concurrent git reset --hard and brought back (${restores.filter((l) => Number(l.madeOnTop) > 0).length} by a merge)`);
  t.false(restores.some((l) => l.err !== undefined), "every rewound commit was brought back");
  // The person's last edit may be left uncommitted (a commit that kept failing); nothing else.
  git(repo, "reset", "-q", "--hard");
  // Thousands of commits in 30 s: the server's sync runs `git gc --auto`, which detaches, and a gc
  // still running holds its own locks. Those go when it ends; a leftover stays and still fails.
  const seen = leftovers(repo);
  if (seen.length > 0) {
    t.log(`files of a git command still running at the end (waited for): ${seen.join(", ")}`);
    await waitFor(() => leftovers(repo).length === 0, { timeoutMs: 60_000 }).catch(() => undefined);
  }
  assertRepoClean(t, repo, "at the end");
});

for (const [backend, extra] of [
  ["git", { ".gitattributes": "*.yaml text eol=lf\n" }],
  ["in-process", {}],
] as const) {
  test(`a person's commit of the same file lands between the plan and the commit (${backend}): the write is planned again on it, HEAD is served, versions equal a fresh server's`, async (t) => {
    const repo = seeded(extra);
    t.teardown(() => rmSync(repo, { recursive: true, force: true }));
    // The server runs this once, right after planning its first write (a test-only fault point).
    const personDir = tempDir("cs-edit-");
    t.teardown(() => rmSync(personDir, { recursive: true, force: true }));
    const edited = join(personDir, "x.yaml");
    writeFileSync(edited, configYaml("x", "by the person\n"));
    // The person's edit as a program the server runs with its arguments (no shell): copy, then commit.
    const person = join(personDir, "edit.mjs");
    writeFileSync(person, [
      'import { copyFileSync } from "node:fs";',
      'import { execFileSync } from "node:child_process";',
      "const [edited, repo] = process.argv.slice(2);",
      'copyFileSync(edited, repo + "/configs/x.yaml");',
      'execFileSync("git", ["-C", repo, "-c", "user.name=Person", "-c", "user.email=p@example.com", "commit", "-q", "-m", "person edits x", "--", "configs/x.yaml"]);',
    ].join("\n"));
    const p = serveProcess(["--repo", repo, "--port", "0"], { CONFIGSERVER_FAULT_RUN_AT: "planned", CONFIGSERVER_FAULT_RUN: JSON.stringify([process.execPath, person, edited, repo]) });
    t.teardown(() => p.child.kill("SIGKILL"));
    const url = await p.url();
    const r = await client(url).updateConfig({ config_detail: { config_name: "x", content: "by the API\n" } });
    t.is(r.status, 200, r.body.message);
    const head = git(repo, "rev-parse", "HEAD").trim();
    t.is(git(repo, "log", "-1", "--format=%s", "HEAD~1").trim(), "person edits x", "the person's commit landed first");
    t.is(git(repo, "rev-parse", "HEAD~1").trim(), git(repo, "rev-parse", "HEAD^@").trim(), "the API commit's only parent is the person's");
    t.is((await client(url).getConfig({ config_name: "x" })).body.config_detail?.content, "by the API\n");
    t.is(git(repo, "show", "HEAD~1:configs/x.yaml"), configYaml("x", "by the person\n"), "the person's edit stays in history");
    t.is((JSON.parse((await send(url, "GET", "/status", "")).body.toString()) as { writer: { mode: string } }).writer.mode, backend);
    t.is(await servedCommit(url), head);
    const served = await versions(url);
    t.deepEqual(served, { x: 3 });
    // A server started from scratch at that commit agrees.
    p.child.kill("SIGTERM");
    await p.exited;
    rmSync(join(repo, ".git", "configserver"), { recursive: true, force: true });
    const fresh = serveProcess(["--repo", repo, "--port", "0"]);
    t.teardown(() => fresh.child.kill("SIGKILL"));
    const freshUrl = await fresh.url();
    t.is(await servedCommit(freshUrl), head);
    t.deepEqual(await versions(freshUrl), served);
    assertRepoClean(t, repo, "after the interleaving");
  });
}

test("a git reset --hard that started before a write and rewound its commit is undone: HEAD moves forward to the server's commit again; a reset to another commit is respected", async (t) => {
  const { repo, url, api } = await served(t);
  const before = git(repo, "rev-parse", "HEAD").trim();
  t.is((await api.createConfig({ config_detail: { config_name: "kept", content: "acknowledged\n" } })).status, 200);
  const own = git(repo, "rev-parse", "HEAD").trim();
  t.not(own, before);
  // What `git reset --hard` leaves when it resolved HEAD before the write and moved it at its end
  // (builtin/reset.c: index and working tree of the old commit, then HEAD set to it): the same
  // end state, made with plumbing so that the interleaving is certain.
  git(repo, "read-tree", "-u", "--reset", before);
  git(repo, "update-ref", "-m", "reset: moving to HEAD", "HEAD", before, own);
  await waitFor(() => git(repo, "rev-parse", "HEAD").trim() === own, { timeoutMs: 10_000 });
  t.is(await servedCommit(url), own, "the server's commit is served");
  t.is((await api.getConfig({ config_name: "kept" })).body.config_detail?.content, "acknowledged\n");
  assertRepoClean(t, repo, "after the restore");
  t.is((await api.updateConfig({ config_detail: { config_name: "kept", content: "next\n" } })).status, 200, "the next write goes on top");

  // A person's reset to another commit means it: it stays.
  const target = git(repo, "rev-parse", "HEAD~1").trim();
  git(repo, "reset", "-q", "--hard", "HEAD~1");
  await waitFor(async () => (await servedCommit(url)) === target);
  t.is((await api.getConfig({ config_name: "kept" })).body.config_detail?.content, "acknowledged\n");
  t.is(git(repo, "rev-parse", "HEAD").trim(), target);
});

/** What a `git reset --hard` that resolved HEAD at `before`, while the server committed `own`, leaves: made with plumbing so the interleaving is certain. */
function rewind(repo: string, before: string, own: string): void {
  git(repo, "read-tree", "-u", "--reset", before);
  git(repo, "update-ref", "-m", "reset: moving to HEAD", "HEAD", before, own);
}

/** A person's commit of one config file (a real `git commit`). */
function personCommits(repo: string, name: string, content: string): string {
  writeFileSync(join(repo, `configs/${name}.yaml`), configYaml(name, content));
  git(repo, "add", `configs/${name}.yaml`);
  git(repo, "commit", "-q", "-m", `person edits ${name}`);
  return git(repo, "rev-parse", "HEAD").trim();
}

/**
 * The race of a reset and a commit on top: the server's write (`write`, answered 200) is rewound
 * by a reset that resolved HEAD before it, and a person commits config `name` on the rewound HEAD,
 * all while the server is stopped (SIGSTOP), so it notices only the end state.
 */
async function rewoundUnderneath(repo: string, server: ReturnType<typeof serveProcess>, write: () => Promise<{ status: number }>, name: string): Promise<{ own: string; person: string }> {
  const before = git(repo, "rev-parse", "HEAD").trim();
  const answer = await write();
  if (answer.status !== 200) throw new Error(`the write answered ${answer.status}`);
  const own = git(repo, "rev-parse", "HEAD").trim();
  server.child.kill("SIGSTOP");
  try {
    rewind(repo, before, own);
    return { own, person: personCommits(repo, name, "person's\n") };
  } finally {
    server.child.kill("SIGCONT");
  }
}

test("a person who commits on top of a HEAD a git reset --hard rewound before the server noticed: the server's commit is merged back, the person's commit stays", async (t) => {
  const { repo, url, api, server } = await served(t);
  const { own, person } = await rewoundUnderneath(repo, server, () => api.createConfig({ config_detail: { config_name: "kept", content: "acknowledged\n" } }), "theirs");
  await waitFor(() => git(repo, "rev-parse", "HEAD").trim() !== person, { timeoutMs: 10_000 });
  const head = git(repo, "rev-parse", "HEAD").trim();
  t.deepEqual(git(repo, "rev-list", "--parents", "-1", "HEAD").trim().split(" ").slice(1), [person, own], "a merge: the person's commit first, the server's second");
  await waitFor(async () => (await servedCommit(url)) === head);
  t.is((await api.getConfig({ config_name: "kept" })).body.config_detail?.content, "acknowledged\n", "the acknowledged write is back");
  t.is((await api.getConfig({ config_name: "theirs" })).body.config_detail?.content, "person's\n", "the person's commit stays");
  assertRepoClean(t, repo, "after the merge");
  t.true(server.logs.some((l) => l.madeOnTop === 1 && l.restored === head), "the restore is logged");
  t.is((await api.updateConfig({ config_detail: { config_name: "kept", content: "next\n" } })).status, 200, "the next write goes on top");
  t.is(git(repo, "rev-parse", "HEAD~1").trim(), head);
});

test("a person who commits the same file on top of a HEAD a git reset --hard rewound: no merge is forced, the person's commit is served, the failure is logged", async (t) => {
  const { repo, url, api, server } = await served(t);
  const { own, person } = await rewoundUnderneath(repo, server, () => api.updateConfig({ config_detail: { config_name: "x", content: "server's\n" } }), "x");
  await waitFor(async () => (await servedCommit(url)) === person);
  await waitFor(() => server.logs.find((l) => l.level === 50 && l.commit === own && l.madeOnTop === 1));
  t.is(git(repo, "rev-parse", "HEAD").trim(), person, "HEAD stays the person's");
  t.is((await api.getConfig({ config_name: "x" })).body.config_detail?.content, "person's\n");
  assertRepoClean(t, repo, "after the refused merge");
  t.is((await api.updateConfig({ config_detail: { config_name: "x", content: "next\n" } })).status, 200, "writes go on");
});
