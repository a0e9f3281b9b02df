import { existsSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { pb } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, writeFiles } from "./helpers/repo.ts";
import { waitFor, withServer, type TestServer } from "./helpers/server.ts";
import { servedCommit, statusOf, versionOf, waitForRefused } from "./helpers/observe.ts";

const { MODIFIED, NEW } = pb.ConfigUpdateInfo.UpdateStatus;

async function pollUntil(s: TestServer, versions: Record<string, number>, ok: (infos: { config_name: string; update_status: number; config_version: { toNumber(): number }; content: string }[]) => boolean) {
  return waitFor(async () => {
    const r = await s.api.configList({ agent_id: "a1", config_versions: versions });
    const infos = r.body.config_update_infos as unknown as Parameters<typeof ok>[0];
    return ok(infos) ? infos : undefined;
  });
}

async function serverWithConfig(t: Parameters<typeof withServer>[0]) {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: { config_name: "c1", content: "v1" } });
  await s.api.apply({ group_name: "default", config_name: "c1" });
  await s.api.heartbeat({ agent_id: "a1" });
  const first = (await s.api.configList({ agent_id: "a1" })).body.config_update_infos[0];
  t.is(first?.update_status, NEW);
  return { s, v1: Number(first?.config_version) };
}

test("a commit by another process is served without a restart, with a larger version", async (t) => {
  const { s, v1 } = await serverWithConfig(t);
  commitFiles(s.repo, { "configs/c1.yaml": configYaml("c1", "v2 by hand") });
  const infos = await pollUntil(s, { c1: v1 }, (i) => i[0]?.update_status === MODIFIED);
  t.is(infos[0]?.content, "v2 by hand");
  t.true(infos[0]!.config_version.toNumber() > v1);
});

test("reset --hard to an older commit is served", async (t) => {
  const { s, v1 } = await serverWithConfig(t);
  const before = git(s.repo, "rev-parse", "HEAD").trim();
  commitFiles(s.repo, { "configs/c1.yaml": configYaml("c1", "v2") });
  await pollUntil(s, { c1: v1 }, (i) => i[0]?.content === "v2");
  git(s.repo, "reset", "-q", "--hard", before);
  const infos = await pollUntil(s, { c1: 999 }, (i) => i[0]?.content === "v1");
  t.is(infos[0]?.config_version.toNumber(), v1);
  t.is(await servedCommit(s.url), before);
});

test("a pull into the served repository is served", async (t) => {
  const { s, v1 } = await serverWithConfig(t);
  const other = tempDir("cs-other-");
  git(other, "clone", "-q", s.repo, ".");
  commitFiles(other, { "configs/c1.yaml": configYaml("c1", "pulled") });
  git(s.repo, "pull", "-q", "--ff-only", other, "main");
  const infos = await pollUntil(s, { c1: v1 }, (i) => i[0]?.content === "pulled");
  t.is(infos[0]?.update_status, MODIFIED);
});

test("uncommitted edits are reported in /status and never served", async (t) => {
  const { s } = await serverWithConfig(t);
  writeFiles(s.repo, { "configs/c1.yaml": configYaml("c1", "not committed") });
  const status = await waitFor(async () => {
    const body = JSON.parse((await (await fetch(`${s.url}/status`)).text())) as { dirty: string[] };
    return body.dirty.includes("configs/c1.yaml") ? body : undefined;
  });
  t.deepEqual(status.dirty, ["configs/c1.yaml"]);
  t.is((await s.api.getConfig({ config_name: "c1" })).body.config_detail?.content, "v1");
  // A write must not commit a person's uncommitted edit of the same file.
  // The reference server defines nothing for it: the alpha User API's nearest code, ServerBusy (not a server error).
  const r = await s.api.updateConfig({ config_detail: { config_name: "c1", content: "api" } });
  t.is(r.status, 503);
  t.is(r.body.code, "ServerBusy");
  t.regex(r.body.message, /uncommitted changes/);
  t.is(git(s.repo, "diff", "--name-only").trim(), "configs/c1.yaml");
});

test("an invalid commit is not served; the next good one is", async (t) => {
  const { s, v1 } = await serverWithConfig(t);
  const bad = commitFiles(s.repo, { "agent_groups/g.yaml": groupYaml("g", ["missing"]) });
  await waitForRefused(s.url, bad);
  t.is(await versionOf(s.url, "c1"), v1);
  const problem = (await statusOf(s.url)).refused?.problems[0];
  t.is(problem?.file, "agent_groups/g.yaml");
  t.is(problem?.line, 4);
  t.regex(problem?.message ?? "", /missing/);
  commitFiles(s.repo, { "agent_groups/g.yaml": groupYaml("g", []), "configs/c1.yaml": configYaml("c1", "fixed") });
  await pollUntil(s, { c1: v1 }, (i) => i[0]?.content === "fixed");
  t.is((await statusOf(s.url)).refused, null);
});

test("a port already in use fails the start cleanly", async (t) => {
  const s = await withServer(t);
  const err = await t.throwsAsync(withServer(t, { port: s.port }));
  t.regex(err?.message ?? "", /EADDRINUSE/);
});

test("uncommitted files in a state folder created after the start are reported", async (t) => {
  const s = await withServer(t);
  t.false(existsSync(join(s.repo, "configs")));
  writeFiles(s.repo, { "configs/new.yaml": configYaml("new", "draft") });
  const status = await waitFor(async () => {
    const body = JSON.parse(await (await fetch(`${s.url}/status`)).text()) as { dirty: string[] };
    return body.dirty.length > 0 ? body : undefined;
  });
  t.deepEqual(status.dirty, ["configs/new.yaml"]);
  t.is((await statusOf(s.url)).configs, 0);
});
