import { writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { git, tempDir } from "./helpers/git.ts";
import { bareRemote, commitFiles, configYaml, groupYaml } from "./helpers/repo.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor } from "./helpers/server.ts";

interface Status {
  commit: string;
  lastSync: { ok: boolean; action: string; error?: string } | null;
  dirty: string[];
}
const status = async (url: string) => JSON.parse(await (await fetch(`${url}/status`)).text()) as Status;

test("a sync that cannot move the tree over a local edit is a status, a metric and a log line; the server keeps serving, also after a restart", async (t) => {
  const { url, person } = bareRemote({ "configs/x.yaml": configYaml("x", "v1"), "agent_groups/default.yaml": groupYaml("default", ["x"]) });
  const repo = join(tempDir("cs-clone-"), "repo");
  const args = ["--repo", repo, "--remote", url, "--port", "0", "--sync-interval", "200ms"];
  const first = serveProcess(args);
  t.teardown(() => void first.child.kill("SIGKILL"));
  const base = await first.url();
  await waitFor(async () => (await status(base)).lastSync?.ok);
  // A person edits the served tree without committing, while the same file changes on the remote.
  writeFileSync(join(repo, "configs/x.yaml"), configYaml("x", "edited in place"));
  commitFiles(person, { "configs/x.yaml": configYaml("x", "from the remote") });
  git(person, "push", "-q", "origin", "main");
  const blocked = await waitFor(async () => {
    const s = await status(base);
    return s.lastSync && !s.lastSync.ok ? s : undefined;
  });
  t.regex(blocked.lastSync?.error ?? "", /configs\/x\.yaml/);
  t.regex(blocked.lastSync?.error ?? "", /uncommitted/);
  t.is((await fetch(`${base}/healthz`)).status, 200);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.regex(metrics, /configserver_sync_blocked 1/);
  await waitFor(() => first.logs.some((l) => l.msg === "sync cannot move the working tree: uncommitted edits are in the way"));
  // Later syncs meet the same edit: the process is still alive after several of them.
  await waitFor(() => first.logs.filter((l) => l.msg === "sync cannot move the working tree: uncommitted edits are in the way").length >= 3);
  t.is(first.child.exitCode, null);
  first.child.kill("SIGTERM");
  t.is(await first.exited, 0);

  // A restart meets the same edit at its first sync, and keeps serving too.
  const second = serveProcess(args);
  t.teardown(() => void second.child.kill("SIGKILL"));
  const again = await second.url();
  const s2 = await waitFor(async () => {
    const s = await status(again);
    return s.lastSync && !s.lastSync.ok ? s : undefined;
  });
  t.regex(s2.lastSync?.error ?? "", /configs\/x\.yaml/);
  await waitFor(() => second.logs.filter((l) => l.msg === "sync cannot move the working tree: uncommitted edits are in the way").length >= 2);
  t.is(second.child.exitCode, null);
  t.is((await fetch(`${again}/healthz`)).status, 200);
  // Once the person's edit is gone, the next sync follows the remote.
  git(repo, "checkout", "--", "configs/x.yaml");
  await waitFor(async () => (await status(again)).lastSync?.ok);
  const served = await waitFor(async () => {
    const r = await fetch(`${again}/api/v1/configs/x`);
    const text = await r.text();
    return text.includes("from the remote") ? text : undefined;
  });
  t.truthy(served);
  second.child.kill("SIGTERM");
  t.is(await second.exited, 0);
});
