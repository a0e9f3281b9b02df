// Issue 23 (4): agent routes are bounded. Their own body limit (--agent-body-limit, 64 KiB by
// default), limits on what one request may carry (tags, reported configs, alarms, statistics)
// whatever the body limit, and --max-agents. Each refusal is in the protocol's own envelope.
import test from "ava";
import { num, pb, send } from "./helpers/client.ts";
import { configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";
import { v1 } from "./helpers/v1Agent.ts";
import { v2 } from "./helpers/v2Agent.ts";

const repo = () => repoWith("cs-agentlimits-", {
  "configs/c1.yaml": configYaml("c1", "inputs: [one]\n"),
  "agent_groups/prod.yaml": groupYaml("prod", ["c1"], [["env", "prod"]]),
});

const alphaBeat = (id: string, tags: Record<string, string> = { env: "prod" }) =>
  pb.HeartBeatRequest.encode({ request_id: `hb-${id}`, agent_id: id, agent_type: "iLogtail", agent_version: "1.0", ip: "10.0.0.1", tags, running_status: "good", startup_time: 1 as never }).finish();

test("a 1 MiB alpha HeartBeat is refused 413 in the alpha envelope (64 KiB agent body limit); the User API keeps its 4 MiB", async (t) => {
  const s = await withServer(t, { repo: repo() });
  const big = await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat("big", { env: "prod", pad: "x".repeat(1024 * 1024) }));
  t.is(big.status, 413);
  const answer = pb.HeartBeatResponse.decode(big.body);
  t.is(answer.code, "BadRequest");
  t.regex(answer.message, /larger than the limit of 65536 bytes/);
  t.is(s.registry.size, 0, "nothing kept");
  // Through koa (a query string) too.
  t.is((await send(s.url, "POST", "/Agent/HeartBeat?x=1", alphaBeat("big", { pad: "x".repeat(100 * 1024) }))).status, 413);
  // OpAMP's route has the agent limit as well.
  t.is((await send(s.url, "POST", "/v1/opamp", Buffer.alloc(100 * 1024, 1), { "content-type": "application/x-protobuf" })).status, 413);
  // A User API body of 1 MiB is within its own limit (refused for its content, not its size).
  const user = await send(s.url, "POST", "/User/CreateConfig", pb.CreateConfigRequest.encode({ request_id: "u", config_detail: { config_name: "big", agent_type: "ilogtail", content: `inputs: [one]\n#${"x".repeat(1024 * 1024)}\n` } }).finish());
  t.not(user.status, 413);
  // A normal heartbeat is fine.
  t.is((await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat("ok"))).status, 200);
});

test("what one request may carry is bounded whatever the body limit: tags, reported configs, alarms, statistics", async (t) => {
  const s = await withServer(t, { repo: repo(), agentBodyLimit: 8 * 1024 * 1024 });
  const tags: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) tags[`t${i}`] = "v";
  const manyTags = await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat("tags", tags));
  t.is(manyTags.status, 400);
  t.like(pb.HeartBeatResponse.decode(manyTags.body), { code: "BadRequest", message: "The request has 10000 tags; at most 256 are accepted per agent." });
  const longTag = await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat("long", { env: "x".repeat(100_000) }));
  t.is(longTag.status, 400);
  t.regex(pb.HeartBeatResponse.decode(longTag.body).message, /tags are 100003 characters long; at most 16384/);

  // v2: 100k ConfigInfo entries.
  const infos = Array.from({ length: 100_000 }, (_, i) => ({ name: `c${i}`, version: 1 as never, status: 2 }));
  const v2Beat = await send(s.url, "POST", "/Agent/Heartbeat", v2.HeartbeatRequest.encode({ request_id: Buffer.from("r"), sequence_num: 1 as never, capabilities: 3 as never, instance_id: Buffer.from("v2-big"), agent_type: "LoongCollector", continuous_pipeline_configs: infos }).finish());
  t.is(v2Beat.status, 400);
  const v2Answer = v2.HeartbeatResponse.decode(v2Beat.body);
  t.is(v2Answer.common_response?.status, 400);
  t.is(Buffer.from(v2Answer.common_response?.errorMessage ?? []).toString(), "continuous_pipeline_configs lists 100000 configs; at most 2000 are accepted in one request.");
  const v2Tags = await send(s.url, "POST", "/Agent/Heartbeat", v2.HeartbeatRequest.encode({ request_id: Buffer.from("r"), sequence_num: 1 as never, capabilities: 3 as never, instance_id: Buffer.from("v2-tags"), tags: Object.keys(tags).map((name) => ({ name, value: "v" })) }).finish());
  t.is(v2Tags.status, 400);
  // v1: 10k tag values.
  const v1Tags = await send(s.url, "POST", "/Agent/HeartBeat", v1.HeartBeatRequest.encode({ request_id: "r", agent_id: "v1-tags", attributes: { version: "3.0.5" }, tags: Object.keys(tags) }).finish());
  t.is(v1Tags.status, 400);
  t.like(v1.HeartBeatResponse.decode(v1Tags.body), { code: v1.RespCode.INVALID_PARAMETER, message: "The request has 10000 tags; at most 256 are accepted per agent." });

  // Alarms: a 1 MiB detail is refused, a normal one kept.
  t.is((await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat("a1"))).status, 200);
  const bigAlarm = await send(s.url, "POST", "/Agent/Alarm", pb.AlarmRequest.encode({ request_id: "al", agent_id: "a1", type: "X", detail: "d".repeat(1024 * 1024) }).finish());
  t.is(bigAlarm.status, 400);
  t.regex(pb.AlarmResponse.decode(bigAlarm.body).message, /alarm's type and detail are 1048577 characters long; at most 4096/);
  t.is((await send(s.url, "POST", "/Agent/Alarm", pb.AlarmRequest.encode({ request_id: "al", agent_id: "a1", type: "X", detail: "disk full" }).finish())).status, 200);
  t.deepEqual(s.registry.get("a1")?.alarms.map((a) => a.detail), ["disk full"]);

  // Running statistics: 1000 extras.
  const extras: Record<string, string> = {};
  for (let i = 0; i < 1000; i++) extras[`k${i}`] = "v";
  const stats = await send(s.url, "POST", "/Agent/RunningStatistics", pb.RunningStatisticsRequest.encode({ request_id: "st", agent_id: "a1", running_details: { cpu: 1, extras } }).finish());
  t.is(stats.status, 400);
  t.is(pb.RunningStatisticsResponse.decode(stats.body).message, "running_details.extras has 1000 entries; at most 64 are accepted.");
  // What was refused was not stored.
  t.is(s.registry.get("tags"), undefined);
  t.is(s.registry.get("a1")?.statistics, undefined);
});

test("the default alarm limit applies under the default body limit too: a 10 KiB detail is refused", async (t) => {
  const s = await withServer(t, { repo: repo() });
  const r = await send(s.url, "POST", "/Agent/Alarm", pb.AlarmRequest.encode({ request_id: "al", agent_id: "a1", type: "X", detail: "d".repeat(10 * 1024) }).finish());
  t.is(r.status, 400);
  t.is(pb.AlarmResponse.decode(r.body).code, "BadRequest");
});

test("--max-agents: a new agent beyond it is refused ServerBusy in its protocol, counted and logged; known agents keep working", async (t) => {
  const lines: Record<string, unknown>[] = [];
  const { pino } = await import("pino");
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const s = await withServer(t, { repo: repo(), maxAgents: 5, logger });
  for (let i = 0; i < 5; i++) t.is((await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat(`a${i}`))).status, 200);
  const sixth = await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat("a5"));
  t.is(sixth.status, 503);
  t.like(pb.HeartBeatResponse.decode(sixth.body), { code: "ServerBusy" });
  t.regex(pb.HeartBeatResponse.decode(sixth.body).message, /already knows 5 agents, its limit \(--max-agents\)/);
  const v2Sixth = await send(s.url, "POST", "/Agent/Heartbeat", v2.HeartbeatRequest.encode({ request_id: Buffer.from("r"), sequence_num: 1 as never, capabilities: 3 as never, instance_id: Buffer.from("v2-new") }).finish());
  t.is(v2Sixth.status, 503);
  t.is(v2.HeartbeatResponse.decode(v2Sixth.body).common_response?.status, 503);
  t.is(s.registry.size, 5);
  // The first five keep working: heartbeats (new bytes: decoded), polls, alarms.
  for (let i = 0; i < 5; i++) {
    t.is((await send(s.url, "POST", "/Agent/HeartBeat", alphaBeat(`a${i}`, { env: "prod", n: "2" }))).status, 200);
    const list = await send(s.url, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ request_id: "g", agent_id: `a${i}`, config_versions: {} }).finish());
    t.is(list.status, 200);
    t.deepEqual(pb.AgentGetConfigListResponse.decode(list.body).config_update_infos.map((c) => [c.config_name, num(c.config_version as never)]), [["c1", s.store.state.configs.get("c1")?.version]]);
  }
  const metrics = (await send(s.url, "GET", "/metrics", "")).body.toString();
  t.regex(metrics, /^configserver_agents_refused_total 2$/m);
  // Logged once (rate-limited), naming the limit.
  t.is(lines.filter((l) => l.msg === "new agents refused: the server already knows --max-agents agents (known agents keep working)").length, 1);
  t.like(lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("new agents refused")), { maxAgents: 5 });
});
