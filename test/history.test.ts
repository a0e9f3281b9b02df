import { writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";
import { configOf, versionOf, waitForCommit } from "./helpers/observe.ts";

interface VersionJson {
  version: number;
  commit: string;
  action: string;
  author: string;
  date: string;
  commitMessage: string;
}

test("history lists each version of a config, matching git log --first-parent, through the CLI and HTTP", async (t) => {
  const s = await withServer(t);
  const cfg = (content: string) => ({ config_detail: { config_name: "app", agent_type: "ilogtail", content } });
  t.is((await s.api.createConfig(cfg("v: 1\n"))).body.code, "Accept");
  t.is((await s.api.apply({ group_name: "default", config_name: "app" })).body.code, "Accept"); // a group-only change: no version
  t.is((await s.api.updateConfig(cfg("v: 2\n"))).body.code, "Accept");
  // A person merges a side branch that changes the config: the merge commit is the new version.
  git(s.repo, "checkout", "-q", "-b", "side");
  writeFileSync(join(s.repo, "configs/app.yaml"), "config_name: app\nagent_type: ilogtail\ndescription: ''\ncontent: |\n  v: 3\n");
  git(s.repo, "commit", "-q", "-am", "side change");
  git(s.repo, "checkout", "-q", "main");
  git(s.repo, "merge", "-q", "--no-ff", "side", "-m", "Merge side");
  const head = git(s.repo, "rev-parse", "HEAD").trim();
  await waitForCommit(s.url, head);

  const expected = git(s.repo, "log", "--first-parent", "--format=%H", "--", "configs/app.yaml").trim().split("\n");
  const depth = (c: string) => Number(git(s.repo, "rev-list", "--first-parent", "--count", c).trim());

  const cli = await runCli(["history", "app", "--repo", s.repo, "--format", "json"]);
  t.is(cli.code, 0, cli.stderr);
  const versions = (JSON.parse(cli.stdout) as { versions: VersionJson[] }).versions;
  t.deepEqual(versions.map((v) => v.commit), expected);
  t.deepEqual(versions.map((v) => v.version), expected.map(depth));
  t.deepEqual(versions.map((v) => v.commitMessage), ["Merge side", "Update config app", "Create config app"]);
  t.deepEqual(versions.map((v) => v.action), ["modified", "modified", "created"]);
  t.is(versions[2]?.author, "configserver");
  t.regex(versions[0]?.date ?? "", /^\d{4}-\d\d-\d\dT/);

  // The newest version is what agents are served, and maps back to its commit.
  t.is((await s.api.heartbeat({ agent_id: "a1" })).body.code, "Accept");
  const served = (await s.api.configList({ agent_id: "a1" })).body.config_update_infos[0];
  t.is(Number(served?.config_version), versions[0]?.version ?? -1);
  t.is((await configOf(s.url, "app"))?.commit, versions[0]?.commit);

  const http = await fetch(`${s.url}/api/v1/configs/app/history`);
  t.is(http.status, 200);
  const body = (await http.json()) as { code: string; currentVersion: number; versions: VersionJson[] };
  t.is(body.code, "Accept");
  t.deepEqual(body.versions, versions);
  t.is(body.currentVersion, versions[0]?.version ?? -1);

  const text = await runCli(["history", "app", "--repo", s.repo]);
  t.regex(text.stdout, new RegExp(`^config app: 3 version\\(s\\), newest first\\nVERSION +COMMIT +DATE +AUTHOR +MESSAGE\\n${versions[0]?.version} +${head.slice(0, 12)} `));
});

test("history of a deleted config shows the deletion; unknown configs are 404 and a CLI error", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: { config_name: "gone", content: "x: 1\n" } });
  await s.api.deleteConfig({ config_name: "gone" });
  const r = await fetch(`${s.url}/api/v1/configs/gone/history`);
  const body = (await r.json()) as { currentVersion: number | null; versions: VersionJson[] };
  t.deepEqual(body.versions.map((v) => [v.version, v.action]), [[2, "deleted"], [1, "created"]]);
  t.is(body.currentVersion, null);

  const missing = await fetch(`${s.url}/api/v1/configs/never/history`);
  t.is(missing.status, 404);
  t.deepEqual(await missing.json(), { code: "ConfigNotExist", message: "Config never doesn't exist and has no history." });
  const bad = await fetch(`${s.url}/api/v1/configs/-x/history`);
  t.is(bad.status, 400);
  t.is(((await bad.json()) as { code: string }).code, "InvalidParameter");

  const cli = await runCli(["history", "never", "--repo", s.repo]);
  t.is(cli.code, 1);
  t.regex(cli.stderr, /Config never doesn't exist and has no history/);
});

test("instance configs have the same history: CLI --instance and /api/v1/instance-configs, matching git log and the served version", async (t) => {
  const repo = tempDir("cs-inst-history-");
  git(repo, "init", "-q", "--initial-branch=main");
  const instance = (v: number) => `config_name: limits\ndescription: "v${v}"\ncontent: |\n  cpu_usage_limit: 0.${v}\n`;
  commitFiles(repo, { "instance_configs/limits.yaml": instance(1), "agent_groups/default.yaml": "group_name: default\ninstance_configs: [limits]\n" }, "Add limits");
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 1\n") }, "Unrelated config");
  commitFiles(repo, { "instance_configs/limits.yaml": instance(2) }, "Raise the CPU limit");
  const s = await withServer(t, { repo });
  const expected = git(repo, "log", "--first-parent", "--format=%H", "--", "instance_configs/limits.yaml").trim().split("\n");
  t.is(expected.length, 2);

  const cli = await runCli(["history", "limits", "--instance", "--repo", repo, "--format", "json"]);
  t.is(cli.code, 0, cli.stderr);
  const versions = (JSON.parse(cli.stdout) as { configName: string; versions: VersionJson[] }).versions;
  t.deepEqual(versions.map((v) => v.commit), expected);
  t.deepEqual(versions.map((v) => [v.version, v.action, v.commitMessage]), [[3, "modified", "Raise the CPU limit"], [1, "created", "Add limits"]]);
  t.is(await versionOf(s.url, "limits", "instance"), 3, "the served version is the newest history entry");

  const text = await runCli(["history", "limits", "--instance", "--repo", repo]);
  t.regex(text.stdout, /^instance config limits: 2 version\(s\), newest first\n/);
  const notPipeline = await runCli(["history", "limits", "--repo", repo]);
  t.is(notPipeline.code, 1);
  t.regex(notPipeline.stderr, /Config limits doesn't exist and has no history/);

  const http = await fetch(`${s.url}/api/v1/instance-configs/limits/history`);
  t.is(http.status, 200);
  const body = (await http.json()) as { code: string; configName: string; currentVersion: number; versions: VersionJson[] };
  t.like(body, { code: "Accept", configName: "limits", currentVersion: 3 });
  t.deepEqual(body.versions, versions);

  const v1 = await fetch(`${s.url}/api/v1/instance-configs/limits/versions/1`);
  t.is(v1.status, 200);
  t.like(await v1.json(), { code: "Accept", version: 1, commit: expected[1], configDetail: { configName: "limits", description: "v1", content: "cpu_usage_limit: 0.1\n" } });
  const v2 = (await (await fetch(`${s.url}/api/v1/instance-configs/limits/versions/3`)).json()) as { configDetail: Record<string, string> };
  t.deepEqual(v2.configDetail, { configName: "limits", description: "v2", content: "cpu_usage_limit: 0.2\n" });

  const noVersion = await fetch(`${s.url}/api/v1/instance-configs/limits/versions/2`);
  t.is(noVersion.status, 404);
  t.deepEqual(await noVersion.json(), { code: "ConfigNotExist", message: "Instance config limits has no version 2; its versions are 3, 1 (see its history)." });
  const unknown = await fetch(`${s.url}/api/v1/instance-configs/app/history`);
  t.is(unknown.status, 404);
  t.deepEqual(await unknown.json(), { code: "ConfigNotExist", message: "Instance config app doesn't exist and has no history." });
  const bad = await fetch(`${s.url}/api/v1/instance-configs/-x/history`);
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { message: string }).message, /^Invalid instance config name "-x"/);
  const badVersion = await fetch(`${s.url}/api/v1/instance-configs/limits/versions/zero`);
  t.is(badVersion.status, 400);
  t.regex(((await badVersion.json()) as { message: string }).message, /see GET \/api\/v1\/instance-configs\/<name>\/history/);
  const rollback = await fetch(`${s.url}/api/v1/instance-configs/limits/rollback`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"version": 1}' });
  t.is(rollback.status, 404, "no rollback of instance configs");
});
