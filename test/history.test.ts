import { writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { git } from "./helpers/git.ts";
import { waitFor, withServer } from "./helpers/server.ts";

interface VersionJson {
  version: number;
  commit: string;
  action: string;
  author: string;
  date: string;
  commit_message: string;
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
  await waitFor(async () => (await s.store.refresh()).commit === head);

  const expected = git(s.repo, "log", "--first-parent", "--format=%H", "--", "configs/app.yaml").trim().split("\n");
  const depth = (c: string) => Number(git(s.repo, "rev-list", "--first-parent", "--count", c).trim());

  const cli = await runCli(["history", "app", "--repo", s.repo, "--format", "json"]);
  t.is(cli.code, 0, cli.stderr);
  const versions = (JSON.parse(cli.stdout) as { versions: VersionJson[] }).versions;
  t.deepEqual(versions.map((v) => v.commit), expected);
  t.deepEqual(versions.map((v) => v.version), expected.map(depth));
  t.deepEqual(versions.map((v) => v.commit_message), ["Merge side", "Update config app", "Create config app"]);
  t.deepEqual(versions.map((v) => v.action), ["modified", "modified", "created"]);
  t.is(versions[2]?.author, "configserver");
  t.regex(versions[0]?.date ?? "", /^\d{4}-\d\d-\d\dT/);

  // The newest version is what agents are served, and maps back to its commit.
  t.is((await s.api.heartbeat({ agent_id: "a1" })).body.code, "Accept");
  const served = (await s.api.configList({ agent_id: "a1" })).body.config_update_infos[0];
  t.is(Number(served?.config_version), versions[0]?.version ?? -1);
  t.is(s.store.state.configs.get("app")?.commit, versions[0]?.commit);

  const http = await fetch(`${s.url}/api/v1/configs/app/history`);
  t.is(http.status, 200);
  const body = (await http.json()) as { code: string; current_version: number; versions: VersionJson[] };
  t.is(body.code, "Accept");
  t.deepEqual(body.versions, versions);
  t.is(body.current_version, versions[0]?.version ?? -1);

  const text = await runCli(["history", "app", "--repo", s.repo]);
  t.regex(text.stdout, new RegExp(`^config app: 3 version\\(s\\), newest first\\nVERSION +COMMIT +DATE +AUTHOR +MESSAGE\\n${versions[0]?.version} +${head.slice(0, 12)} `));
});

test("history of a deleted config shows the deletion; unknown configs are 404 and a CLI error", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: { config_name: "gone", content: "x: 1\n" } });
  await s.api.deleteConfig({ config_name: "gone" });
  const r = await fetch(`${s.url}/api/v1/configs/gone/history`);
  const body = (await r.json()) as { current_version: number | null; versions: VersionJson[] };
  t.deepEqual(body.versions.map((v) => [v.version, v.action]), [[2, "deleted"], [1, "created"]]);
  t.is(body.current_version, null);

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
