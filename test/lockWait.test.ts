// `serve --lock-wait`: how long a write waits for a lock another git command holds (docs/store.md,
// "Waiting instead of failing"), through the real CLI.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { client } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { configYaml, repoWith } from "./helpers/repo.ts";
import { serveProcess } from "./helpers/serveProcess.ts";

test("serve --lock-wait 300ms: a held index.lock refuses a write with ServerBusy after that wait (not the 5 s default), changing nothing", async (t) => {
  const repo = repoWith("cs-lockwait-", { "configs/base.yaml": configYaml("base", "x\n") }, "base");
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const p = serveProcess(["--repo", repo, "--port", "0", "--lock-wait", "300ms"]);
  t.teardown(() => p.child.kill("SIGKILL"));
  const api = client(await p.url());
  const head = git(repo, "rev-parse", "HEAD").trim();
  writeFileSync(join(repo, ".git", "index.lock"), "");
  const res = await api.updateConfig({ config_detail: { config_name: "base", content: "changed\n" } });
  t.is(res.status, 503);
  t.is(res.body.code, "ServerBusy");
  const waited = Number(/waited (\d+) ms/.exec(res.body.message)?.[1]);
  t.true(waited >= 300 && waited < 5000, res.body.message);
  t.is(git(repo, "rev-parse", "HEAD").trim(), head, "no commit");
  rmSync(join(repo, ".git", "index.lock"));
  t.is((await api.updateConfig({ config_detail: { config_name: "base", content: "changed\n" } })).body.code, "Accept");
});
