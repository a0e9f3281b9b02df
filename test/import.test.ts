// `configserver import` (the real executable) from a running alpha server (this one, started in
// the test) and from the community server's v1 User API (a test double: helpers/communityServer.ts).
import { existsSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { pb } from "./helpers/client.ts";
import { runCli } from "./helpers/cli.ts";
import { AGENT_CONFIG, startCommunityServer, type CommunityConfig, type CommunityGroup } from "./helpers/communityServer.ts";
import { git, tempDir } from "./helpers/git.ts";
import { repoWith } from "./helpers/repo.ts";
import { withServer, type TestServer } from "./helpers/server.ts";

const NGINX = "# access logs\ninputs:\n  - Type: input_file\n    FilePaths: [\"/var/log/nginx/*.log\"]   \nflushers:\n  - Type: flusher_stdout";
const JAVA = "inputs:\n  - Type: input_file\n    FilePaths: [/app/*.log]\n    Tag: \"ü\t→\"\n";

/** What a User API shows: configs, groups and each group's applied configs. */
async function view(s: TestServer) {
  const configs = (await s.api.listConfigs()).body.config_details.map((c) => pb.Config.toObject(c as never, { defaults: true }));
  const groups = (await s.api.listGroups()).body.agent_groups.map((g) => pb.AgentGroup.toObject(g as never, { defaults: true }));
  const applied: Record<string, string[]> = {};
  for (const g of groups) applied[g.group_name as string] = (await s.api.appliedConfigs({ group_name: g.group_name })).body.config_names;
  return { configs, groups, applied };
}

const commits = (dir: string) => git(dir, "log", "--format=%s").trim().split("\n");

test("import from a running alpha server: one commit, the repository validates, this server shows what the source showed", async (t) => {
  const source = await withServer(t);
  const { api } = source;
  for (const [name, content, description] of [["nginx", NGINX, "web logs"], ["java", JAVA, ""], ["spare", "inputs: []\n", "not applied"]] as const) {
    t.is((await api.createConfig({ config_detail: { config_name: name, agent_type: "iLogtail", description, content } })).body.code, "Accept");
  }
  await api.createGroup({ agent_group: { group_name: "web", description: "web servers", tags: [{ name: "env", value: "prod" }, { name: "role", value: "web" }] } });
  await api.createGroup({ agent_group: { group_name: "empty-group", tags: [{ name: "k", value: "v" }] } });
  await api.apply({ group_name: "web", config_name: "nginx" });
  await api.apply({ group_name: "web", config_name: "java" });
  await api.apply({ group_name: "default", config_name: "java" });

  const repo = join(tempDir("cs-import-"), "repo");
  const r = await runCli(["import", "--from", source.url, "--protocol", "alpha", "--repo", repo]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /Reading agent groups from .* \(alpha User API\)…\n  3 agent groups\nReading configs…\n  3 configs\n/);
  t.regex(r.stderr, /Reading the configs applied to agent group web \(3\/3\)…/);
  t.regex(r.stdout, new RegExp(`Imported 3 config\\(s\\), 3 agent group\\(s\\) and 3 binding\\(s\\) from the alpha ConfigServer at ${source.url} into ${repo}: commit [0-9a-f]{12}\\.`));
  t.regex(r.stdout, /new       configs\/nginx\.yaml/);
  t.regex(r.stdout, /changed   agent_groups\/default\.yaml/);
  t.deepEqual(commits(repo), [`Import 3 configs, 3 agent groups and 3 bindings from the alpha ConfigServer at ${source.url} (6 of 6 files written)`]);
  t.is(git(repo, "status", "--porcelain"), "");
  const validate = await runCli(["validate", repo]);
  t.is(validate.code, 0, validate.stdout);

  const target = await withServer(t, { repo });
  t.deepEqual(await view(target), await view(source));

  // Again: nothing changed, no commit.
  const again = await runCli(["import", "--from", source.url, "--protocol", "alpha", "--repo", repo]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /already holds everything .*: nothing to commit/);
  t.is(commits(repo).length, 1);
});

const communityConfigs: CommunityConfig[] = [
  { name: "nginx", version: 3, detail: NGINX },
  { name: "java", version: 1, context: "team-a", detail: JAVA },
  { name: "mysql-slow", version: 0, detail: "inputs:\n  - Type: input_file\n" },
  { type: AGENT_CONFIG, name: "agent-settings", version: 2, detail: "cpu_usage_limit: 0.4\n" },
];
const communityGroups: CommunityGroup[] = [
  { name: "default", description: "Default agent group, include all Agents.", applied: ["mysql-slow"] },
  { name: "web", description: "web hosts", tags: [{ name: "env", value: "prod" }], applied: ["java", "nginx", "agent-settings"] },
  { name: "db", tags: [{ name: "role", value: "db" }], applied: ["mysql-slow", "ghost"] },
];

test("import from the community server's v1 User API: pipelines, groups and bindings; agent configs, contexts and dangling bindings are reported", async (t) => {
  const source = await startCommunityServer(communityConfigs, communityGroups);
  t.teardown(() => source.close());
  const repo = join(tempDir("cs-import-v1-"), "repo");
  const r = await runCli(["import", "--from", source.url, "--repo", repo]);
  t.is(r.code, 0, r.stderr);
  t.true(source.requests.every((q) => q.startsWith("POST /User/")), "v1 reads are POST");
  t.regex(r.stdout, /Imported 3 config\(s\), 3 agent group\(s\) and 4 binding\(s\) from the v1 ConfigServer at/);
  t.regex(r.stdout, /1 agent config\(s\) \(type AGENT_CONFIG\) not imported, nor their bindings: agent-settings\./);
  t.regex(r.stdout, /The context of 1 config\(s\) was not kept .*: java\./);
  t.regex(r.stdout, /Agent group db applies config ghost, which the source does not list: that binding was not imported\./);
  // The import commit is the root (version 1): java was at version 1 on the source too.
  t.regex(r.stdout, /1 config\(s\) have the same version here as on the source, .*: java\./);
  t.is((await runCli(["validate", repo])).code, 0);

  const target = await withServer(t, { repo });
  const shown = await view(target);
  t.deepEqual(shown.configs.map((c) => [c.config_name, c.content]), [["java", JAVA], ["mysql-slow", "inputs:\n  - Type: input_file\n"], ["nginx", NGINX]]);
  t.deepEqual(shown.groups.map((g) => [g.group_name, g.description, g.tags]), [
    ["db", "", [{ name: "role", value: "db" }]],
    ["default", "Default agent group, include all Agents.", []],
    ["web", "web hosts", [{ name: "env", value: "prod" }]],
  ]);
  t.deepEqual(shown.applied, { db: ["mysql-slow"], default: ["mysql-slow"], web: ["java", "nginx"] });
});

test("names that break the rule are listed and nothing is written, in a new folder or an existing repository", async (t) => {
  const source = await startCommunityServer(
    [{ name: "good", version: 1, detail: "a: 1\n" }, { name: "bad name", version: 1, detail: "b: 1\n" }, { name: "../escape", version: 1, detail: "c: 1\n" }, { name: "blank", version: 1, detail: "" }],
    [{ name: "web/prod", applied: ["good"] }],
  );
  t.teardown(() => source.close());
  const fresh = join(tempDir("cs-import-bad-"), "repo");
  const r = await runCli(["import", "--from", source.url, "--repo", fresh]);
  t.is(r.code, 1);
  t.regex(r.stderr, /Nothing was imported: 4 problem\(s\)/);
  t.regex(r.stderr, /Invalid config name "bad name"/);
  t.regex(r.stderr, /Invalid config name "\.\.\/escape"/);
  t.regex(r.stderr, /Invalid agent group name "web\/prod"/);
  t.regex(r.stderr, /Config "blank" has no content/);
  t.false(existsSync(fresh), "no folder was created");

  const existing = repoWith("cs-import-existing-", { "README.md": "ours\n" });
  const r2 = await runCli(["import", "--from", source.url, "--repo", existing]);
  t.is(r2.code, 1);
  t.deepEqual(commits(existing), ["change by a person"]);
  t.is(git(existing, "status", "--porcelain"), "");
});

test("--dry-run shows what would be written and writes nothing; the wrong --protocol is named", async (t) => {
  const source = await startCommunityServer(communityConfigs, communityGroups);
  t.teardown(() => source.close());
  const repo = join(tempDir("cs-import-dry-"), "repo");
  const dry = await runCli(["import", "--from", source.url, "--repo", repo, "--dry-run"]);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /Dry run: nothing was written\. The import would write 6 file\(s\) into .* as one commit:\n  "Import 3 configs, 3 agent groups and 4 bindings from the v1 ConfigServer at .* \(6 of 6 files written\)"/);
  t.regex(dry.stdout, /new       configs\/java\.yaml/);
  t.false(existsSync(repo));

  const alpha = await withServer(t);
  const wrong = await runCli(["import", "--from", alpha.url, "--protocol", "v1", "--repo", repo]);
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /answered in the alpha protocol \(its code is a string\): run again with --protocol alpha/);
  const wrong2 = await runCli(["import", "--from", source.url, "--protocol", "alpha", "--repo", repo]);
  t.is(wrong2.code, 2);
  t.regex(wrong2.stderr, /answered 404 with a body that is not a protobuf message \(alpha servers serve reads as GET, the community v1 server as POST: is --protocol alpha right\?\)/);
  t.false(existsSync(repo));
});
