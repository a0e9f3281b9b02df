// Protocol v1 (LoongCollector's LegacyCommonConfigProvider, the community ConfigServer's agent
// protocol) against the real server and a real git repository: the test agent
// (helpers/v1Agent.ts) does what the C++ provider does.
import test from "ava";
import { num, send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml as config, groupYaml, instanceYaml as instance, repoWith } from "./helpers/repo.ts";
import { withServer, type TestServer } from "./helpers/server.ts";
import { DELETED, MODIFIED, NEW, v1, V1Agent } from "./helpers/v1Agent.ts";
import { agentCount, agentOf, configOf, remembered, waitForCommit } from "./helpers/observe.ts";

// Pipeline text with what YAML round trips tend to lose: comments, quotes, trailing spaces, a tab,
// unicode, no final newline.
const NGINX = '# nginx access logs\nenable: true\ninputs:\n  - Type: input_file\n    FilePaths: ["/var/log/nginx/access.log"]   \n    Tag: "ü\t→"\nflushers:\n  - Type: flusher_stdout';
const JAVA = "inputs:\n  - Type: input_file\n    FilePaths: [/app/*.log]\n";

/** A repository a person made: two pipelines for env=prod, nothing for everyone else. */
function repo(): string {
  const dir = repoWith("cs-v1repo-", {
    "configs/nginx.yaml": config("nginx", NGINX),
    "configs/java.yaml": config("java", JAVA),
    "agent_groups/web.yaml": groupYaml("web", ["java", "nginx"], [["env", "prod"]]),
    "agent_groups/default.yaml": groupYaml("default", [], []),
  });
  return dir;
}

async function served(s: TestServer, commit: string): Promise<void> {
  await waitForCommit(s.url, commit);
}

const agentFor = (t: { teardown(f: () => void): void }, s: TestServer, id: string, tags: Record<string, string>) => {
  const a = new V1Agent(s.url, id, tags);
  t.teardown(() => a.cleanup());
  return a;
};

test("a LegacyCommonConfigProvider agent converges: NEW with content byte for byte, then nothing, MODIFIED, DELETED", async (t) => {
  const s = await withServer(t, { repo: repo() });
  // Names are dropped: "prod" is what the server sees, and the web group's tag {env, prod} matches it.
  const agent = agentFor(t, s, "legacy-1", { region: "hz", env: "prod" });
  const version = async (name: string) => (await configOf(s.url, name))?.version as number;

  const first = await agent.cycle();
  t.is(first.status, 200);
  t.is(first.response.code, v1.RespCode.ACCEPT);
  t.true(first.response.request_id.length > 0, "the request id is echoed");
  t.deepEqual(first.results, [
    { name: "java", status: NEW, oldVersion: 0, newVersion: await version("java") },
    { name: "nginx", status: NEW, oldVersion: 0, newVersion: await version("nginx") },
  ]);
  t.true(first.fetched);
  t.deepEqual(agent.files(), { java: JAVA, nginx: NGINX });

  // It reports the served versions: nothing to say, and no fetch.
  const second = await agent.cycle();
  t.deepEqual([second.results, second.fetched, second.response.pipeline_check_results], [[], false, []]);
  t.is(second.response.message, "Send heartbeat success");
  // The versions it reports are what the rollout counts: it runs the served version of both.
  const rollout = JSON.parse((await send(s.url, "GET", "/api/v1/configs/nginx/rollout", "")).body.toString()) as Record<string, unknown>;
  t.like(rollout, { servedVersion: await version("nginx"), targeted: 1, applied: 1, notReported: 0 });

  // Another process commits a change of nginx: MODIFIED with the old and the new version.
  const before = await version("nginx");
  const changed = `${NGINX}\n# tuned`;
  await served(s, commitFiles(s.repo, { "configs/nginx.yaml": config("nginx", changed) }));
  const third = await agent.cycle();
  t.deepEqual(third.results, [{ name: "nginx", status: MODIFIED, oldVersion: before, newVersion: await version("nginx") }]);
  t.true((await version("nginx")) > before);
  t.is(agent.files().nginx, changed);
  t.is(agent.held.get("java"), await version("java"), "java untouched");

  // java is removed from the group: DELETED (old and new = the version it reported), the file goes.
  const javaVersion = await version("java");
  await served(s, commitFiles(s.repo, { "agent_groups/web.yaml": groupYaml("web", ["nginx"], [["env", "prod"]]) }));
  const fourth = await agent.cycle();
  t.deepEqual(fourth.results, [{ name: "java", status: DELETED, oldVersion: javaVersion, newVersion: javaVersion }]);
  t.true(fourth.fetched, "the agent fetches even when every result is a deletion");
  t.is(fourth.fetchStatus, 200);
  t.deepEqual(agent.files(), { nginx: changed });
  t.deepEqual((await agent.cycle()).results, []);

  // The registry keeps what it reports, by name.
  const record = (await agentOf(s.url, "legacy-1")) as { pipelineConfigs: { name: string; version: number }[]; tags: object; tagValues: string[] } | undefined;
  t.deepEqual(record?.pipelineConfigs.map((c) => [c.name, c.version]), [["nginx", await version("nginx")]]);
  t.deepEqual(record?.tags, {});
  t.deepEqual(record?.tagValues, ["prod", "hz"]);
});

test("tag values matching no group get nothing; a restarted agent gets everything again once", async (t) => {
  const s = await withServer(t, { repo: repo() });
  const stranger = agentFor(t, s, "legacy-stranger", { env: "staging", team: "prod-ops" });
  const none = await stranger.cycle();
  t.deepEqual([none.status, none.results, none.fetched], [200, [], false]);
  t.deepEqual(stranger.files(), {});

  const agent = agentFor(t, s, "legacy-2", { env: "prod" });
  t.is((await agent.cycle()).results.length, 2);
  agent.restart();
  const again = await agent.cycle();
  t.deepEqual(again.results.map((r) => [r.name, r.status]), [["java", NEW], ["nginx", NEW]]);
  t.deepEqual((await agent.cycle()).results, []);
});

test("a config's version is the same number for v1 and alpha agents, and ListAgents shows v1 agents with their tag values", async (t) => {
  const s = await withServer(t, { repo: repo() });
  const agent = agentFor(t, s, "legacy-3", { env: "prod" });
  const results = (await agent.cycle()).results;
  await s.api.heartbeat({ agent_id: "alpha-3", tags: { env: "prod" } });
  const alpha = (await s.api.configList({ agent_id: "alpha-3" })).body.config_update_infos.map((u) => [u.config_name, num(u.config_version as never)]);
  t.deepEqual(results.map((r) => [r.name, r.newVersion]), alpha);

  const web = (await s.api.listAgents({ group_name: "web" })).body.agents;
  t.deepEqual(web.map((a) => [a.agent_id, a.agent_type, a.ip, a.version, a.tags]), [
    ["alpha-3", "", "", "", { env: "prod" }],
    ["legacy-3", "iLogtail", "10.0.0.21", "3.0.5", { prod: "" }],
  ]);
});

test("the interval the agent sends decides when it counts as late in the agents API", async (t) => {
  let now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const s = await withServer(t, { repo: repo(), now: () => now });
  const fast = agentFor(t, s, "every-2s", { env: "prod" });
  fast.interval = 2;
  const slow = agentFor(t, s, "every-30s", { env: "prod" });
  slow.interval = 30;
  await fast.cycle();
  await slow.cycle();
  now += 10_000; // 5 intervals of the first, a third of one of the second
  const agents = JSON.parse((await send(s.url, "GET", "/api/v1/agents", "")).body.toString()) as { agents: { agentId: string; protocol: string; late: boolean; tagValues: string[] }[] };
  t.deepEqual(agents.agents.map((a) => [a.agentId, a.protocol, a.late, a.tagValues]), [
    ["every-2s", "v1", true, ["prod"]],
    ["every-30s", "v1", false, ["prod"]],
  ]);
  const one = JSON.parse((await send(s.url, "GET", "/api/v1/agents/every-30s", "")).body.toString()) as { intervalSeconds: number; pipelineConfigs: { name: string }[] };
  t.is(one.intervalSeconds, 30);
  t.deepEqual(one.pipelineConfigs.map((c) => c.name), []);
});

test("agent configs: check results in the heartbeat (AGENT_CONFIG), content from FetchAgentConfig, nothing once reported", async (t) => {
  const dir = repo();
  commitFiles(dir, {
    "instance_configs/loong.yaml": instance("loong", '{"max_bytes_per_sec": 209715200}\n'),
    "agent_groups/web.yaml": groupYaml("web", ["java", "nginx"], [["env", "prod"]], ["loong"]),
  });
  const s = await withServer(t, { repo: dir });
  const loong = (await configOf(s.url, "loong", "instance"))?.version as number;
  const beat = (agentConfigs: { name: string; version: number }[]) =>
    send(s.url, "POST", "/Agent/HeartBeat", v1.HeartBeatRequest.encode({ request_id: "hb", agent_id: "agent-cfg", attributes: { version: "3.0.5" }, tags: ["prod"], agent_configs: agentConfigs.map((c) => ({ type: v1.ConfigType.AGENT_CONFIG, ...c, version: c.version as never })) }).finish());
  const first = v1.HeartBeatResponse.decode((await beat([])).body);
  t.deepEqual(first.agent_check_results.map((r) => [r.type, r.name, num(r.old_version as never), num(r.new_version as never), r.check_status]), [[v1.ConfigType.AGENT_CONFIG, "loong", 0, loong, NEW]]);
  t.is(first.pipeline_check_results.length, 2);

  const fetched = await send(s.url, "POST", "/Agent/FetchAgentConfig", v1.FetchAgentConfigRequest.encode({ request_id: "fa", agent_id: "agent-cfg", attributes: { version: "3.0.5" }, req_configs: [{ type: v1.ConfigType.AGENT_CONFIG, name: "loong", version: loong as never }, { name: "nope", version: 1 as never }] }).finish());
  t.is(fetched.status, 200);
  const answer = v1.FetchAgentConfigResponse.decode(fetched.body);
  t.deepEqual(answer.config_details.map((d) => [d.type, d.name, num(d.version as never), d.detail]), [[v1.ConfigType.AGENT_CONFIG, "loong", loong, '{"max_bytes_per_sec": 209715200}\n']]);
  t.regex(answer.message, /except nope: not applied to this agent's groups in the served commit/);
  t.is(answer.request_id, "fa");

  t.deepEqual(v1.HeartBeatResponse.decode((await beat([{ name: "loong", version: loong as never }])).body).agent_check_results, []);
  t.deepEqual(((await agentOf(s.url, "agent-cfg")) as { instanceConfigs: { name: string; version: number }[] } | undefined)?.instanceConfigs.map((c) => [c.name, c.version]), [["loong", loong]]);
});

test("FetchPipelineConfig serves the configs applied to the agent's groups, at their served version", async (t) => {
  const s = await withServer(t, { repo: repo() });
  const fetch = (agentId: string, name: string, version: number) =>
    send(s.url, "POST", "/Agent/FetchPipelineConfig", v1.FetchPipelineConfigRequest.encode({ request_id: "f1", agent_id: agentId, req_configs: [{ name, version: version as never }, { name, version: version as never }] }).finish());
  await agentFor(t, s, "prod-1", { env: "prod" }).cycle();
  // The agent asks for the version its heartbeat was told; a commit in between serves the newer one.
  const asked = (await configOf(s.url, "java"))?.version as number;
  await served(s, commitFiles(s.repo, { "configs/java.yaml": config("java", `${JAVA}# v2\n`) }));
  const r = await fetch("prod-1", "java", asked);
  t.is(r.status, 200);
  const answer = v1.FetchPipelineConfigResponse.decode(r.body);
  t.deepEqual(answer.config_details.map((d) => [d.type, d.name, num(d.version as never), d.detail]), [[v1.ConfigType.PIPELINE_CONFIG, "java", (await configOf(s.url, "java"))?.version, `${JAVA}# v2\n`]]);
  t.is(answer.message, "Get config details success");
  t.is(answer.code, v1.RespCode.ACCEPT);

  // Issue 23 (9): a config applied to none of the agent's groups is not served, whatever its name;
  // nor to an agent that never sent a heartbeat.
  const other = agentFor(t, s, "staging-1", { env: "staging" });
  t.deepEqual((await other.cycle()).results, []);
  const refused = v1.FetchPipelineConfigResponse.decode((await fetch("staging-1", "java", asked)).body);
  t.deepEqual(refused.config_details, []);
  t.regex(refused.message, /except java: not applied to this agent's groups/);
  const stranger = await fetch("never-beat", "java", asked);
  t.is(stranger.status, 404);
  t.deepEqual(v1.FetchPipelineConfigResponse.decode(stranger.body).config_details, []);
});

test("with no valid commit a v1 agent is told to retry (503 INTERNAL_SERVER_ERROR), never to delete", async (t) => {
  const s = await withServer(t); // an empty repository: nothing to serve yet
  const agent = agentFor(t, s, "legacy-early", { env: "prod" });
  agent.held.set("nginx", 7);
  const c = await agent.cycle();
  t.is(c.status, 503);
  t.is(c.response.code, v1.RespCode.INTERNAL_SERVER_ERROR);
  t.regex(c.response.message, /no valid commit to serve \(the repository has no commits yet\)/);
  t.deepEqual(c.results, []);
  t.is(agent.held.get("nginx"), 7, "it keeps what it runs");
  const f = await send(s.url, "POST", "/Agent/FetchPipelineConfig", v1.FetchPipelineConfigRequest.encode({ request_id: "f", agent_id: "legacy-early", req_configs: [{ name: "nginx", version: 7 as never }] }).finish());
  t.is(f.status, 503);
  t.is(v1.FetchPipelineConfigResponse.decode(f.body).code, v1.RespCode.INTERNAL_SERVER_ERROR);
});

test("bad v1 input: 400 INVALID_PARAMETER with a message, nothing stored", async (t) => {
  const s = await withServer(t, { repo: repo() });
  const noId = await send(s.url, "POST", "/Agent/HeartBeat", v1.HeartBeatRequest.encode({ request_id: "x1", attributes: { version: "3.0.5" }, interval: 10 }).finish());
  t.is(noId.status, 400);
  t.like(v1.HeartBeatResponse.decode(noId.body), { request_id: "x1", code: v1.RespCode.INVALID_PARAMETER, message: "Need parameter AgentID." });

  const unnamed = await send(s.url, "POST", "/Agent/HeartBeat", v1.HeartBeatRequest.encode({ request_id: "x2", agent_id: "half", attributes: {}, pipeline_configs: [{ name: "a", version: 1 as never }, { version: 2 as never }] }).finish());
  t.is(unnamed.status, 400);
  t.like(v1.HeartBeatResponse.decode(unnamed.body), { request_id: "x2", code: v1.RespCode.INVALID_PARAMETER, message: "Every ConfigInfo needs a name: pipeline_configs[1] has none." });
  t.deepEqual(await remembered(s.url, ["half"]), [], "nothing was stored");
  t.is(await agentCount(s.url), 0);
});
