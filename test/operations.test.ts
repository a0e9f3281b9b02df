import { writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { stringify } from "yaml";
import { runCli } from "./helpers/cli.ts";
import { client } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor, withServer } from "./helpers/server.ts";

test("serve --repo NEWDIR says it created an empty repository and how to add the template; init then fills it while it serves", async (t) => {
  const repo = join(tempDir("cs-new-"), "configs-repo");
  const p = serveProcess(["--repo", repo, "--port", "0"]);
  t.teardown(() => p.child.kill("SIGKILL"));
  const url = await p.url();
  const created = await waitFor(() => p.logs.find((l) => typeof l.msg === "string" && l.msg.startsWith("created a new, empty git repository")));
  t.is(created.repo, repo);
  t.regex(String(created.hint), new RegExp(`configserver init ${repo.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(while this server runs is fine`));
  t.is((await client(url).listConfigs()).body.config_details.length, 0);

  const init = await runCli(["init", repo]);
  t.is(init.code, 0, init.stderr);
  t.regex(init.stdout, /Created a config repository in .* from the template \(one commit\)\. Serve it with: \S*configserver serve --repo /);
  t.regex(init.stdout, /pull request check needs CONFIGSERVER_PACKAGE set in \.github\/workflows\/validate\.yml and \.gitlab-ci\.yml/);
  await waitFor(async () => (await client(url).listConfigs()).body.config_details.length === 3);
  t.is(git(repo, "rev-list", "--count", "HEAD").trim(), "1");
  // An existing repository is not mentioned as created.
  p.child.kill("SIGTERM");
  t.is(await p.exited, 0);
  const again = serveProcess(["--repo", repo, "--port", "0"]);
  t.teardown(() => again.child.kill("SIGKILL"));
  await again.url();
  t.false(again.logs.some((l) => String(l.msg).startsWith("created")));
});

test("init --package writes a pinned CONFIGSERVER_PACKAGE into both CI files, and refuses a bare registry name", async (t) => {
  const spec = `git+https://example.com/x/configserver.git#${"0123456789".repeat(4)}`;
  const repo = join(tempDir("cs-init-"), "r");
  const r = await runCli(["init", repo, "--package", spec]);
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stdout, /needs CONFIGSERVER_PACKAGE/);
  for (const f of [".github/workflows/validate.yml", ".gitlab-ci.yml"]) t.regex(git(repo, "show", `HEAD:${f}`), new RegExp(`^\\s*CONFIGSERVER_PACKAGE: "${spec.replace(/[.+]/g, "\\$&")}"$`, "m"), f);
  const bare = await runCli(["init", join(tempDir("cs-init-"), "r"), "--package", "configserver"]);
  t.is(bare.code, 2);
  t.regex(bare.stderr, /--package "configserver" is not pinned: use a release tarball URL/);
});

test("history and rollback find the repository from --repo, CONFIGSERVER_REPO or the settings file, and say how when none is set", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: { config_name: "app", content: "a: 1\n" } });
  await s.api.updateConfig({ config_detail: { config_name: "app", content: "a: 2\n" } });
  await s.close();
  const elsewhere = tempDir("cs-elsewhere-");
  const settings = join(tempDir("cs-settings-"), "configserver.yaml");
  writeFileSync(settings, stringify({ repo: s.repo, port: 9 }));
  const versions = (r: { stdout: string }) => (JSON.parse(r.stdout) as { versions: { version: number }[] }).versions.map((v) => v.version);

  for (const [how, args, env] of [
    ["--repo", ["--repo", s.repo], {}],
    ["CONFIGSERVER_REPO", [], { CONFIGSERVER_REPO: s.repo }],
    ["CONFIGSERVER_CONFIG", [], { CONFIGSERVER_CONFIG: settings }],
    ["--config", ["--config", settings], {}],
  ] as const) {
    const r = await runCli(["history", "app", "--format", "json", ...args], { cwd: elsewhere, env });
    t.is(r.code, 0, `${how}: ${r.stderr}`);
    t.deepEqual(versions(r), [2, 1], how);
  }
  // --repo beats the environment, as for serve.
  const flagWins = await runCli(["history", "app", "--repo", elsewhere], { cwd: elsewhere, env: { CONFIGSERVER_REPO: s.repo } });
  t.is(flagWins.code, 2);
  t.regex(flagWins.stderr, /--repo: \S+ is not a git repository: point it at the config repository/);

  const rb = await runCli(["rollback", "app", "--to", "1"], { cwd: elsewhere, env: { CONFIGSERVER_REPO: s.repo } });
  t.is(rb.code, 0, rb.stderr);
  t.regex(rb.stdout, /^Rolled back config app to version 1/);

  for (const command of [["history", "app"], ["rollback", "app", "--to", "1"]]) {
    const none = await runCli(command, { cwd: elsewhere });
    t.is(none.code, 2, none.stdout);
    t.regex(none.stderr, /no config repository: the current folder is not one, and none is set\. Pass --repo DIR \(after `make run`: --repo data\/config-repo\), set CONFIGSERVER_REPO, or give a settings file/);
  }
  // From inside the repository nothing needs to be set.
  await runCli(["init", join(elsewhere, "r")]);
  const inside = await runCli(["history", "nginx-access", "--format", "json"], { cwd: join(elsewhere, "r", "configs") });
  t.is(inside.code, 0, inside.stderr);
  t.deepEqual(versions(inside), [1]);
});
