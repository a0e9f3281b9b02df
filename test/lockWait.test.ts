// `serve --lock-wait`: how long a write waits for a lock another git command holds (docs/store.md,
// "Waiting instead of failing"), through the real CLI. Observed by order, never by the clock: a
// short wait ends in a refusal while the lock is still held; a long one outlasts the lock, and the
// write that had started (its intent is on disk, docs/store.md "Crash safety") then succeeds.
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { client } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { configYaml, repoWith } from "./helpers/repo.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor } from "./helpers/server.ts";

function served(t: import("ava").ExecutionContext, lockWait: string) {
  const repo = repoWith("cs-lockwait-", { "configs/base.yaml": configYaml("base", "x\n") }, "base");
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const p = serveProcess(["--repo", repo, "--port", "0", "--lock-wait", lockWait]);
  t.teardown(() => p.child.kill("SIGKILL"));
  return { repo, p };
}

test("serve --lock-wait 300ms: a held index.lock refuses a write with ServerBusy naming the lock while it is still held, changing nothing", async (t) => {
  const { repo, p } = served(t, "300ms");
  const api = client(await p.url());
  const head = git(repo, "rev-parse", "HEAD").trim();
  const lock = join(repo, ".git", "index.lock");
  writeFileSync(lock, "");
  const res = await api.updateConfig({ config_detail: { config_name: "base", content: "changed\n" } });
  t.is(res.status, 503);
  t.is(res.body.code, "ServerBusy");
  t.regex(res.body.message, /index\.lock is held by another git process \(waited \d+ ms\)/);
  t.true(existsSync(lock), "the refusal came while the lock was still held: the wait is bounded by the setting");
  t.is(git(repo, "rev-parse", "HEAD").trim(), head, "no commit");
  rmSync(lock);
  t.is((await api.updateConfig({ config_detail: { config_name: "base", content: "changed\n" } })).body.code, "Accept");
  t.not(git(repo, "rev-parse", "HEAD").trim(), head);
});

test("serve --lock-wait 10m: a write that meets a held index.lock waits, and commits once the lock is released", async (t) => {
  const { repo, p } = served(t, "10m");
  const api = client(await p.url());
  const head = git(repo, "rev-parse", "HEAD").trim();
  const lock = join(repo, ".git", "index.lock");
  writeFileSync(lock, "");
  let answered = false;
  const pending = api.updateConfig({ config_detail: { config_name: "base", content: "after the lock\n" } }).finally(() => (answered = true));
  // The write has begun: its intent is written before it takes index.lock.
  const intents = join(repo, ".git", "configserver", "intents");
  await waitFor(() => existsSync(intents) && readdirSync(intents).length > 0);
  t.false(answered, "not answered while the lock is held");
  t.is(git(repo, "rev-parse", "HEAD").trim(), head, "nothing committed while waiting");
  rmSync(lock);
  const res = await pending;
  t.is(res.body.code, "Accept", res.body.message);
  t.regex(git(repo, "show", "HEAD:configs/base.yaml"), /after the lock/);
});
