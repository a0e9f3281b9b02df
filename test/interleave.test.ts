import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { client, num, send } from "./helpers/client.ts";
import { git, personEnv, tempDir } from "./helpers/git.ts";
import { configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { assertRepoClean } from "./helpers/repoChecks.ts";
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

async function servedCommit(url: string): Promise<string | null> {
  return (JSON.parse((await send(url, "GET", "/status", "")).body.toString()) as { commit: string | null }).commit;
}

test("a person's git commit and git reset --hard among API writes for 30 s: no acknowledged write lost, no answer 500, HEAD served at the end", async (t) => {
  const repo = seeded();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const p = serveProcess(["--repo", repo, "--port", "0"]);
  t.teardown(() => p.child.kill("SIGKILL"));
  const url = await p.url();
  const api = client(url);
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
  for (const [name, content] of acked) t.is((await api.getConfig({ config_name: name })).body.config_detail?.content, content, `acknowledged ${name}`);
  // The person's last edit may be left uncommitted (a commit that kept failing); nothing else.
  git(repo, "reset", "-q", "--hard");
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
    const edited = join(tempDir("cs-edit-"), "x.yaml");
    writeFileSync(edited, configYaml("x", "by the person\n"));
    const edit = `cp ${JSON.stringify(edited)} configs/x.yaml && git -c user.name=Person -c user.email=p@example.com commit -q -m "person edits x" -- configs/x.yaml`;
    const p = serveProcess(["--repo", repo, "--port", "0"], { CONFIGSERVER_TEST_RUN_AT: "planned", CONFIGSERVER_TEST_RUN: `cd ${JSON.stringify(repo)} && ${edit}` });
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
