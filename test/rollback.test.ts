import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { git } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";
import { configOf } from "./helpers/observe.ts";

const post = (url: string, body: unknown) => fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const cfg = (content: string, description = "") => ({ config_detail: { config_name: "app", agent_type: "ilogtail", description, content } });

test("rollback over HTTP is one forward commit; agents get the old content as a new, larger version", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig(cfg("level: info\n", "first"));
  await s.api.apply({ group_name: "default", config_name: "app" });
  await s.api.heartbeat({ agent_id: "a1" });
  const first = (await s.api.configList({ agent_id: "a1" })).body.config_update_infos[0];
  const v1 = Number(first?.config_version);
  await s.api.updateConfig(cfg("level: debug\n", "second"));
  const second = (await s.api.configList({ agent_id: "a1", config_versions: { app: v1 } })).body.config_update_infos[0];
  t.is(second?.content, "level: debug\n");
  const v2 = Number(second?.config_version);
  const commitsBefore = Number(git(s.repo, "rev-list", "--count", "HEAD").trim());
  const v2Commit = (await configOf(s.url, "app"))?.commit;

  const r = await post(`${s.url}/api/v1/configs/app/rollback`, { version: v1 });
  t.is(r.status, 200);
  const body = (await r.json()) as { code: string; version: number; commit: string; restoredVersion: number; restoredCommit: string };
  t.is(body.code, "Accept");
  t.is(body.restoredVersion, v1);
  t.not(body.restoredCommit, v2Commit);
  t.is(Number(git(s.repo, "rev-list", "--count", "HEAD").trim()), commitsBefore + 1);
  t.is(git(s.repo, "rev-parse", "HEAD").trim(), body.commit);
  t.is(git(s.repo, "log", "-1", "--format=%s").trim(), `Roll back config app to version ${v1} (commit ${body.restoredCommit.slice(0, 12)})`);
  t.is(git(s.repo, "status", "--porcelain"), "");
  t.true(body.version > v2);

  const detail = (await s.api.getConfig({ config_name: "app" })).body.config_detail;
  t.is(detail?.content, "level: info\n");
  t.is(detail?.description, "first");
  const polled = (await s.api.configList({ agent_id: "a1", config_versions: { app: v2 } })).body.config_update_infos[0];
  t.is(polled?.update_status, 3); // MODIFIED
  t.is(polled?.content, "level: info\n");
  t.is(Number(polled?.config_version), body.version);

  const history = (await (await fetch(`${s.url}/api/v1/configs/app/history`)).json()) as { versions: { version: number; commit: string; commitMessage: string }[] };
  t.is(history.versions[0]?.version, body.version);
  t.is(history.versions[0]?.commit, body.commit);
  t.is(history.versions.find((v) => v.version === v1)?.commit, body.restoredCommit);

  // Rolling back to what is already there changes nothing.
  const again = await post(`${s.url}/api/v1/configs/app/rollback`, { version: v1 });
  t.is(again.status, 200);
  t.like(await again.json(), { commit: null, version: body.version });
  t.is(Number(git(s.repo, "rev-list", "--count", "HEAD").trim()), commitsBefore + 1);
});

test("rollback errors: unknown config or version 404, bad input 400, read-only 403", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig(cfg("a: 1\n"));
  const unknown = await post(`${s.url}/api/v1/configs/nope/rollback`, { version: 1 });
  t.is(unknown.status, 404);
  t.deepEqual(await unknown.json(), { code: "ConfigNotExist", message: "Config nope doesn't exist and has no history." });
  const noVersion = await post(`${s.url}/api/v1/configs/app/rollback`, { version: 99 });
  t.is(noVersion.status, 404);
  t.regex(((await noVersion.json()) as { message: string }).message, /^Config app has no version 99; its versions are 1 /);
  const bad = await post(`${s.url}/api/v1/configs/app/rollback`, { version: "one" });
  t.is(bad.status, 400);
  t.is(((await bad.json()) as { code: string }).code, "BadRequest");

  const ro = await withServer(t, { repo: s.repo, readOnly: true });
  const refused = await post(`${ro.url}/api/v1/configs/app/rollback`, { version: 1 });
  t.is(refused.status, 403);
  t.regex(((await refused.json()) as { message: string }).message, /read-only/);
});

test("configserver rollback --repo commits directly without a server; history shows it", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig(cfg("a: 1\n"));
  await s.api.updateConfig(cfg("a: 2\n"));
  await s.close();
  const before = Number(git(s.repo, "rev-list", "--count", "HEAD").trim());
  const r = await runCli(["rollback", "app", "--to", "1", "--repo", s.repo]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Rolled back config app to version 1 \(commit [0-9a-f]{12}\): new commit [0-9a-f]{12}, version 3\.\n$/);
  t.is(Number(git(s.repo, "rev-list", "--count", "HEAD").trim()), before + 1);
  t.is(git(s.repo, "show", "HEAD:configs/app.yaml").match(/a: \d/)?.[0], "a: 1");
  const h = await runCli(["history", "app", "--repo", s.repo, "--format", "json"]);
  t.deepEqual((JSON.parse(h.stdout) as { versions: { version: number }[] }).versions.map((v) => v.version), [3, 2, 1]);

  const missing = await runCli(["rollback", "app", "--to", "7", "--repo", s.repo]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /Config app has no version 7; its versions are 3, 2, 1/);
});
