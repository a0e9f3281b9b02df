// Protocol v2 (LoongCollector's CommonConfigProvider) against the real server and a real git
// repository: the test agent (helpers/v2Agent.ts) does what the C++ provider does.
import test from "ava";
import pino from "pino";
import { startServer, type ServerOptions } from "../src/server.ts";
import { pb, send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer, type TestServer } from "./helpers/server.ts";
import { Status, v2, V2Agent } from "./helpers/v2Agent.ts";
import { agentCount, agentOf, remembered, servedCommit, statusOf, versionOf, waitForCommit, waitForRefused } from "./helpers/observe.ts";

const nginx = (port: number) => `inputs:\n  - Type: input_file\n    FilePaths: [/var/log/nginx/access.log]\nflushers:\n  - Type: flusher_stdout\n    Port: ${port}\n`;
const config = (name: string, content: string) => `config_name: ${name}\nagent_type: LoongCollector\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;
const instance = (name: string, content: string) => `config_name: ${name}\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;
const group = (name: string, tags: [string, string][], configs: string[], instances?: string[]) =>
  `group_name: ${name}\ndescription: ""\ntags: ${JSON.stringify(tags.map(([n, v]) => ({ name: n, value: v })))}\nconfigs: ${JSON.stringify(configs)}\n${instances ? `instance_configs: ${JSON.stringify(instances)}\n` : ""}`;

/** A repository a person made: two pipelines and one non-mapping config for env=prod, one pipeline for everyone, one instance config. */
function fleetRepo(): string {
  const dir = repoWith("cs-v2repo-", {
    "configs/nginx.yaml": config("nginx", nginx(1)),
    "configs/java.yaml": config("java", '{"inputs":[{"Type":"input_file","FilePaths":["/app/*.log"]}]}'),
    "configs/plain.yaml": config("plain", "not a mapping, only text"),
    "instance_configs/loong.yaml": instance("loong", '{"max_bytes_per_sec": 209715200}'),
    "agent_groups/web.yaml": group("web", [["env", "prod"]], ["nginx", "plain"], ["loong"]),
    "agent_groups/default.yaml": group("default", [], ["java"]),
  });
  return dir;
}

const commit = (dir: string, files: Record<string, string>) => commitFiles(dir, files, "change by a person");

async function served(s: TestServer, commitId: string): Promise<void> {
  await waitForCommit(s.url, commitId);
}

const names = (l: readonly { name: string }[]) => l.map((x) => x.name);
const version = (l: readonly { name: string; version: number }[], name: string) => l.find((x) => x.name === name)?.version;

for (const details of ["heartbeat", "fetch"] as const) {
  test(`a CommonConfigProvider agent converges (details in the ${details})`, async (t) => {
    const repo = fleetRepo();
    const s = await withServer(t, { repo, v2ConfigDetails: details });
    const agent = new V2Agent(s.url, `i-${details}`, { env: "prod" });
    t.teardown(() => agent.cleanup());

    // First beat: every applied mapping config and the instance config; the non-mapping one is held back.
    const first = await agent.cycle();
    t.is(first.status, 200);
    t.is(first.response.common_response?.status, 0);
    t.is(first.fetched, details === "fetch");
    t.deepEqual(names(first.pipelineUpdates), ["java", "nginx"]);
    t.deepEqual(names(first.instanceUpdates), ["loong"]);
    t.is(Number(first.response.flags) & 1, 1, "an agent the server has not seen is asked for its full state");
    t.deepEqual(agent.files(), { pipelines: ["java", "nginx"], instances: ["loong"] });
    t.deepEqual(agent.pipelineFile("nginx"), { inputs: [{ Type: "input_file", FilePaths: ["/var/log/nginx/access.log"] }], flushers: [{ Type: "flusher_stdout", Port: 1 }], version: await versionOf(s.url, "nginx") });
    t.deepEqual(agent.pipelineFile("java"), { inputs: [{ Type: "input_file", FilePaths: ["/app/*.log"] }], version: await versionOf(s.url, "java") });
    t.deepEqual(agent.instanceFile("loong"), { max_bytes_per_sec: 209715200, version: await versionOf(s.url, "loong", "instance") });
    agent.load();

    // Reporting the served versions: nothing to do, and no full state asked again.
    const second = await agent.cycle();
    t.deepEqual([second.pipelineUpdates, second.instanceUpdates, second.fetched], [[], [], false]);
    t.is(Number(second.response.flags), 0);

    // A commit by another process: only the changed config, with a larger version.
    const before = version(first.pipelineUpdates, "nginx") as number;
    await served(s, commit(repo, { "configs/nginx.yaml": config("nginx", nginx(2)) }));
    const third = await agent.cycle();
    t.deepEqual(names(third.pipelineUpdates), ["nginx"]);
    t.true((version(third.pipelineUpdates, "nginx") as number) > before);
    t.deepEqual((agent.pipelineFile("nginx").flushers as unknown[])[0], { Type: "flusher_stdout", Port: 2 });
    agent.load();

    // Removed from the group: -1, and the agent deletes its file.
    await served(s, commit(repo, { "agent_groups/web.yaml": group("web", [["env", "prod"]], ["plain"], ["loong"]) }));
    const fourth = await agent.cycle();
    t.deepEqual(fourth.pipelineUpdates, [{ name: "nginx", version: -1 }]);
    t.deepEqual(agent.files().pipelines, ["java"]);

    // A config the server never had: -1 too.
    agent.pipelines.set("ghost", { name: "ghost", version: 3, status: Status.APPLIED, message: "" });
    t.deepEqual((await agent.cycle()).pipelineUpdates, [{ name: "ghost", version: -1 }]);
    t.deepEqual((await agent.cycle()).pipelineUpdates, []);

    // Capabilities 0: the agent accepts nothing, so it is sent nothing.
    const mute = new V2Agent(s.url, `mute-${details}`, { env: "prod" });
    t.teardown(() => mute.cleanup());
    mute.capabilities = 0;
    const m = await mute.cycle();
    t.deepEqual([m.pipelineUpdates, m.instanceUpdates, m.fetched], [[], [], false]);
    t.truthy((await agentOf(s.url, `mute-${details}`)), "it is still registered");

    // After a server restart: asked for its full state, and nothing it already has is re-sent.
    await s.close();
    const again = await startServer({ port: 0, repo, logger: pino({ level: "silent" }), v2ConfigDetails: details });
    t.teardown(() => again.close());
    agent.pointAt(again.url);
    const afterRestart = await agent.cycle();
    t.is(Number(afterRestart.response.flags) & 1, 1);
    t.deepEqual([afterRestart.pipelineUpdates, afterRestart.instanceUpdates], [[], []]);
  });
}

test("FAILED with its message shows in the agent's JSON and in the rollout; applied counts move with a new commit", async (t) => {
  const repo = fleetRepo();
  const s = await withServer(t, { repo });
  const agents = ["a1", "a2", "a3"].map((id) => new V2Agent(s.url, id, { env: "prod" }));
  t.teardown(() => agents.forEach((a) => a.cleanup()));
  const rollout = async (name: string) => JSON.parse((await send(s.url, "GET", `/api/v1/configs/${name}/rollout`, "")).body.toString()) as Record<string, unknown>;

  for (const a of agents) await a.cycle();
  t.like(await rollout("nginx"), { targeted: 3, applied: 0, applying: 0, notReported: 3 }, "received, not yet reported");
  for (const a of agents) await a.cycle();
  t.like(await rollout("nginx"), { targeted: 3, applied: 0, applying: 3, failed: 0, older: 0, notReported: 0 }, "they hold it, not yet loaded");
  for (const a of agents) {
    a.load((name) => (a.instanceId === "a3" && name === "nginx" ? "flusher_stdout: unknown parameter Port" : undefined));
    await a.cycle();
  }
  const r = await rollout("nginx");
  t.like(r, { name: "nginx", kind: "pipeline", servedVersion: await versionOf(s.url, "nginx"), targeted: 3, applied: 2, failed: 1, applying: 0 });
  t.deepEqual(r.failures, [{ message: "flusher_stdout: unknown parameter Port", count: 1, agents: ["a3"] }]);
  t.like(await rollout("java"), { targeted: 3, applied: 3 });
  const detail = JSON.parse((await send(s.url, "GET", "/api/v1/agents/a3", "")).body.toString()) as { protocol: string; pipelineConfigs: unknown[] };
  t.is(detail.protocol, "v2");
  t.deepEqual(detail.pipelineConfigs.find((c) => (c as { name: string }).name === "nginx"), { name: "nginx", version: await versionOf(s.url, "nginx"), status: "FAILED", message: "flusher_stdout: unknown parameter Port" });

  // A new commit: everyone is on an older version until they beat, then applying, then applied.
  await served(s, commit(repo, { "configs/nginx.yaml": config("nginx", nginx(3)) }));
  t.like(await rollout("nginx"), { targeted: 3, applied: 0, older: 3, failed: 0 });
  for (const a of agents) await a.cycle();
  t.like(await rollout("nginx"), { older: 3 }, "received; they report what they hold at the next beat");
  for (const a of agents) await a.cycle();
  t.like(await rollout("nginx"), { applying: 3, older: 0 });
  for (const a of agents) {
    a.load();
    await a.cycle();
  }
  t.like(await rollout("nginx"), { applied: 3, failed: 0, failures: [] });

  // ReportStatus between heartbeats names one config; the others keep their report.
  const report = v2.ReportStatusRequest.encode({ request_id: Buffer.from("rs-1"), instance_id: Buffer.from("a1"), continuous_pipeline_configs: [{ name: "java", version: await versionOf(s.url, "java") as never, status: Status.FAILED, message: "disk full" }] }).finish();
  const answer = await send(s.url, "POST", "/Agent/ReportStatus", report);
  t.is(answer.status, 200);
  t.deepEqual(Buffer.from(v2.ReportStatusResponse.decode(answer.body).request_id).toString(), "rs-1");
  t.like(await rollout("java"), { applied: 2, failed: 1, failures: [{ message: "disk full", count: 1, agents: ["a1"] }] });
  t.like(await rollout("nginx"), { applied: 3 });
  t.is((await send(s.url, "GET", "/api/v1/configs/nope/rollout", "")).status, 404);
  t.like(JSON.parse((await send(s.url, "GET", "/api/v1/instance-configs/loong/rollout", "")).body.toString()), { targeted: 3, applied: 3 });
});

test("/Agent/Heartbeat is v2 only and /Agent/HeartBeat never reaches v2", async (t) => {
  const s = await withServer(t, { repo: fleetRepo() });
  const agent = new V2Agent(s.url, "v2-agent", { env: "prod" });
  t.teardown(() => agent.cleanup());
  const v2Body = v2.HeartbeatRequest.encode(agent.heartbeatRequest()).finish();

  // v2 bytes on alpha's path: refused or read as alpha, never registered as a v2 agent.
  const wrongPath = await send(s.url, "POST", "/Agent/HeartBeat", v2Body);
  t.not((await agentOf(s.url, "v2-agent"))?.protocol, "v2");
  if (wrongPath.status === 200) t.is(pb.HeartBeatResponse.decode(wrongPath.body).code, "Accept");
  else t.is(wrongPath.status, 400);

  // alpha bytes on v2's path: v2 answers (in v2's message), and no alpha agent appears.
  const alphaBody = pb.HeartBeatRequest.encode({ request_id: "r1", agent_id: "alpha-agent", tags: { env: "prod" } }).finish();
  const onV2 = await send(s.url, "POST", "/Agent/Heartbeat", alphaBody);
  t.is(onV2.status, 400);
  t.is(v2.HeartbeatResponse.decode(onV2.body).common_response?.status, 400);
  t.is((await agentOf(s.url, "alpha-agent")), undefined);

  // Each on its own path.
  t.is((await agent.cycle()).status, 200);
  t.is((await agentOf(s.url, "v2-agent"))?.protocol, "v2");
  const alpha = await send(s.url, "POST", "/Agent/HeartBeat", alphaBody);
  t.deepEqual(pb.HeartBeatResponse.toObject(pb.HeartBeatResponse.decode(alpha.body)), { response_id: "r1", code: "Accept", message: "Send heartbeat success" });
  t.is((await agentOf(s.url, "alpha-agent"))?.protocol, "alpha");
  const listed = (await s.api.listAgents({ group_name: "default" })).body.agents.map((a) => a.agent_id);
  t.deepEqual(listed, ["alpha-agent", "v2-agent"]);
});

test("bad v2 input: a clear 400 or 413 in v2's message, nothing stored, the server keeps serving", async (t) => {
  const s = await withServer(t, { repo: fleetRepo(), agentBodyLimit: 4096 });
  const errorOf = (b: Buffer) => {
    const r = v2.HeartbeatResponse.decode(b);
    return { status: r.common_response?.status, message: Buffer.from(r.common_response?.errorMessage ?? []).toString() };
  };
  const garbage = await send(s.url, "POST", "/Agent/Heartbeat", Buffer.from([0x0a, 0xff, 0x01, 0x02]));
  t.is(garbage.status, 400);
  t.like(errorOf(garbage.body), { status: 400 });
  t.regex(errorOf(garbage.body).message, /not a valid protobuf configserver\.proto\.v2\.HeartbeatRequest/);

  const noId = await send(s.url, "POST", "/Agent/Heartbeat", v2.HeartbeatRequest.encode({ request_id: Buffer.from("x1"), agent_type: "LoongCollector" }).finish());
  t.is(noId.status, 400);
  t.regex(errorOf(noId.body).message, /Need parameter instance_id/);
  t.is(Buffer.from(v2.HeartbeatResponse.decode(noId.body).request_id).toString(), "x1");

  const unnamed = await send(s.url, "POST", "/Agent/Heartbeat", v2.HeartbeatRequest.encode({ instance_id: Buffer.from("half"), continuous_pipeline_configs: [{ version: 2 as never }] }).finish());
  t.is(unnamed.status, 400);
  t.regex(errorOf(unnamed.body).message, /empty name/);

  const big = await send(s.url, "POST", "/Agent/Heartbeat", v2.HeartbeatRequest.encode({ instance_id: Buffer.from("big"), running_status: "x".repeat(10_000) }).finish());
  t.is(big.status, 413);
  t.like(errorOf(big.body), { status: 400 });

  for (const path of ["/Agent/FetchInstanceConfig", "/Agent/ReportStatus"]) {
    const r = await send(s.url, "POST", path, v2.FetchConfigRequest.encode({ instance_id: Buffer.from("never-beat") }).finish());
    t.is(r.status, 404, path);
  }
  t.deepEqual(await remembered(s.url, ["half", "big", "never-beat"]), [], "nothing was stored");
  t.is(await agentCount(s.url), 0);

  const agent = new V2Agent(s.url, "fine", { env: "prod" });
  t.teardown(() => agent.cleanup());
  t.deepEqual(names((await agent.cycle()).pipelineUpdates), ["java", "nginx"]);
});

test("WaitForChange=true holds a current agent's heartbeat until a commit changes its configs", async (t) => {
  const repo = fleetRepo();
  const s = await withServer(t, { repo, v2LongPollMs: 30_000 });
  const agent = new V2Agent(s.url, "poller", { env: "prod" });
  t.teardown(() => agent.cleanup());
  await agent.cycle();
  agent.load();
  await agent.cycle();

  const held = send(s.url, "POST", "/Agent/Heartbeat?InstanceId=poller&WaitForChange=true", v2.HeartbeatRequest.encode(agent.heartbeatRequest()).finish());
  let answered = false;
  void held.then(() => (answered = true));
  const status = async () => JSON.parse((await send(s.url, "GET", "/status", "")).body.toString()) as { heldHeartbeats: number };
  await waitFor(async () => (await status()).heldHeartbeats === 1);
  t.false(answered, "held while nothing changed");
  await served(s, commit(repo, { "configs/java.yaml": config("java", '{"inputs":[{"Type":"input_file","FilePaths":["/app2/*.log"]}]}') }));
  const r = v2.HeartbeatResponse.decode((await held).body);
  t.deepEqual(r.continuous_pipeline_config_updates.map((c) => c.name), ["java"]);

  // Bounded: with nothing changing, a held heartbeat is answered (empty) when the bound passes.
  const short = await withServer(t, { repo, v2LongPollMs: 300 });
  const other = new V2Agent(short.url, "poller2", { env: "prod" });
  t.teardown(() => other.cleanup());
  await other.cycle();
  const empty = v2.HeartbeatResponse.decode((await send(short.url, "POST", "/Agent/Heartbeat?WaitForChange=true", v2.HeartbeatRequest.encode(other.heartbeatRequest()).finish())).body);
  t.deepEqual(empty.continuous_pipeline_config_updates, []);
});

test("instance configs are validated like configs: a group naming a missing one is refused", async (t) => {
  const repo = fleetRepo();
  const s = await withServer(t, { repo });
  const good = await servedCommit(s.url);
  const bad = commit(repo, { "agent_groups/web.yaml": group("web", [["env", "prod"]], ["nginx"], ["loong", "missing"]), "instance_configs/Wrong.yaml": instance("wrong", "{}") });
  await waitForRefused(s.url, bad);
  t.is(await servedCommit(s.url), good);
  const messages = (await statusOf(s.url)).refused?.problems.map((p) => `${p.file}: ${p.message}`) ?? [];
  t.true(messages.some((m) => m.startsWith("agent_groups/web.yaml") && m.includes('instance config "missing", which does not exist: add instance_configs/missing.yaml')), messages.join("\n"));
  t.true(messages.some((m) => m.startsWith("instance_configs/Wrong.yaml") && m.includes("does not match the file name")), messages.join("\n"));
});

test("a v2 agent on a repository with no valid commit is told to wait, never to delete", async (t) => {
  const repo = tempDir("cs-v2empty-");
  const s = await withServer(t, { repo } satisfies Partial<ServerOptions>);
  const agent = new V2Agent(s.url, "early", { env: "prod" });
  t.teardown(() => agent.cleanup());
  agent.pipelines.set("nginx", { name: "nginx", version: 4, status: Status.APPLIED, message: "" });
  const r = await agent.cycle();
  t.is(r.status, 503);
  t.is(r.response.common_response?.status, 503);
  t.deepEqual(r.pipelineUpdates, []);
  t.deepEqual(agent.files().pipelines, []);
  t.truthy(agent.pipelines.get("nginx"));
});
