// OpAMP over plain HTTP against the real server and a real git repository, driven by a real
// OpAMP client nobody here wrote (@elastic/opamp-client-node, what EDOT SDKs embed).
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { gzipSync } from "node:zlib";
import test from "ava";
import pino from "pino";
import { AgentCapabilities, createOpAMPClient, DIAG_CH_SEND_SUCCESS, RemoteConfigStatuses } from "@elastic/opamp-client-node";
import { startServer, type RunningServer } from "../src/server.ts";
import { opamp } from "../src/gen/proto.js";
import { callJson, send } from "./helpers/client.ts";
import { commitFiles, groupYaml, repoWith } from "./helpers/repo.ts";
import { startRelay } from "./helpers/relay.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { V2Agent } from "./helpers/v2Agent.ts";
import { agentCount, versionOf, waitForCommit } from "./helpers/observe.ts";

const pb = opamp.proto.v1;
const otel = (name: string, content: string) => `config_name: ${name}\nagent_type: opamp\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;
const loong = (name: string, content: string) => `config_name: ${name}\nagent_type: LoongCollector\ndescription: ""\ncontent: ${JSON.stringify(content)}\n`;
const COLLECTOR = "receivers:\n  otlp:\n    protocols:\n      http: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n";
const ELASTIC = '{"logging_level":"debug"}';
const NGINX = "inputs:\n  - Type: input_file\n    FilePaths: [/var/log/nginx/access.log]\nflushers:\n  - Type: flusher_stdout\n";

function fleetRepo(): string {
  return repoWith("cs-opamp-", {
    "configs/collector.yaml": otel("collector", COLLECTOR),
    "configs/elastic.yaml": otel("elastic", ELASTIC),
    "configs/nginx.yaml": loong("nginx", NGINX),
    "agent_groups/checkout.yaml": groupYaml("checkout", ["collector", "nginx"], [["service.name", "checkout"]]),
    "agent_groups/default.yaml": groupYaml("default", ["elastic"]),
  });
}

const CAPS = BigInt((AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig as number) | (AgentCapabilities.AgentCapabilities_ReportsRemoteConfig as number));
/** An AgentToServer as bytes; numbers for its uint64 fields, as protobufjs encodes them (its types say Long). */
const a2s = (m: Record<string, unknown>) => pb.AgentToServer.encode(m as opamp.proto.v1.IAgentToServer).finish();
type RemoteConfig = { config?: { configMap: Record<string, { body: Uint8Array; contentType: string }> }; configHash: Uint8Array };
type Sent = { a2s: { flags: bigint; sequenceNum: bigint; remoteConfigStatus?: unknown; agentDescription?: unknown }; s2a: { flags: bigint; remoteConfig?: unknown } };

/** A real OpAMP client that applies what it receives as a test decides (APPLIED, or FAILED for a body saying `broken`). */
function agent(endpoint: string, attributes: Record<string, string>, options: { capabilities?: bigint; headers?: Record<string, string> } = {}) {
  const received: RemoteConfig[] = [];
  const exchanges: Sent[] = [];
  const client = createOpAMPClient({
    endpoint: `${endpoint}/v1/opamp`,
    capabilities: options.capabilities ?? CAPS,
    heartbeatIntervalSeconds: 0.1,
    diagEnabled: true,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    ...(options.headers ? { headers: options.headers } : {}),
    onMessage: ({ remoteConfig }: { remoteConfig?: RemoteConfig }) => {
      if (!remoteConfig) return;
      received.push(remoteConfig);
      const bodies = Object.values(remoteConfig.config?.configMap ?? {}).map((f) => Buffer.from(f.body).toString());
      const broken = bodies.some((b) => b.includes("broken"));
      client.setRemoteConfigStatus({
        status: broken ? RemoteConfigStatuses.RemoteConfigStatuses_FAILED : RemoteConfigStatuses.RemoteConfigStatuses_APPLIED,
        lastRemoteConfigHash: remoteConfig.configHash,
        ...(broken ? { errorMessage: "receiver broken: unknown type" } : {}),
      });
    },
  });
  // The instance_uid's 16 bytes as UUID text: how the server names the agent too.
  const uid = Buffer.from(client.getInstanceUid() as Uint8Array).toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
  const onSend = (m: unknown) => {
    const x = m as Sent & { instanceUidStr: string };
    if (x.instanceUidStr === uid) exchanges.push(x);
  };
  subscribe(DIAG_CH_SEND_SUCCESS, onSend);
  const [identifying, nonIdentifying] = [{ "service.name": attributes["service.name"] ?? "x" }, { ...attributes }];
  delete (nonIdentifying as Record<string, string>)["service.name"];
  client.setAgentDescription({ identifyingAttributes: identifying, nonIdentifyingAttributes: nonIdentifying });
  client.start();
  return {
    uid,
    received,
    exchanges,
    files: (i = received.length - 1) => Object.fromEntries(Object.entries(received[i]?.config?.configMap ?? {}).map(([n, f]) => [n, { body: Buffer.from(f.body).toString(), contentType: f.contentType }])),
    /** Resolves after `n` more answered exchanges. */
    beats: (n: number) => {
      const until = exchanges.length + n;
      return waitFor(() => exchanges.length >= until);
    },
    stop: async () => {
      unsubscribe(DIAG_CH_SEND_SUCCESS, onSend);
      await client.shutdown();
    },
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
type AgentJson = Record<string, unknown> & { pipelineConfigs: { name: string; version: number; status: string; message: string }[]; remoteConfig: { status: string; hash: string; error: string } };
const agentJson = async (url: string, id: string) => (await callJson(url, "GET", `/api/v1/agents/${id}`)).body as AgentJson;
const rollout = async (url: string, name: string) => (await callJson(url, "GET", `/api/v1/configs/${name}/rollout`)).body as Record<string, unknown> & { failures: { message: string; agents: string[] }[] };

test("a real OpAMP client: its map from git, APPLIED and FAILED in the rollout, each change once, an empty map, a restart asks its full state and re-sends nothing", async (t) => {
  const repo = fleetRepo();
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  let server: RunningServer = await startServer({ port: 0, repo, logger: log });
  t.teardown(() => server.close());
  const relay = await startRelay(server.url);
  t.teardown(() => relay.close());
  const a = agent(relay.url, { "service.name": "checkout", "host.name": "web-1" });
  t.teardown(() => a.stop());

  // First connect: the configs of its groups that say agent_type: opamp, as written, with their content type.
  await waitFor(() => a.received.length >= 1);
  t.deepEqual(a.files(0), { collector: { body: COLLECTOR, contentType: "application/yaml" }, elastic: { body: ELASTIC, contentType: "application/json" } });
  const firstHash = hex(a.received[0]?.configHash as Uint8Array);

  // APPLIED: per agent and in the rollout, like a v2 agent's report.
  const applied = await waitFor(async () => {
    const j = await agentJson(server.url, a.uid);
    return j.remoteConfig?.status === "APPLIED" && j.pipelineConfigs.length === 2 ? j : undefined;
  });
  t.is(applied.protocol, "opamp");
  t.is(applied.remoteConfig.hash, firstHash);
  t.deepEqual(applied.pipelineConfigs.map((c) => [c.name, c.version, c.status]), [["collector", await versionOf(server.url, "collector"), "APPLIED"], ["elastic", await versionOf(server.url, "elastic"), "APPLIED"]]);
  t.deepEqual((applied.tags as Record<string, string>)["host.name"], "web-1");
  t.true((applied.groups as string[]).includes("checkout"));
  const r1 = await rollout(server.url, "collector");
  t.like(r1, { targeted: 1, applied: 1, failed: 0 });
  t.like(await rollout(server.url, "nginx"), { targeted: 0 }, "a LoongCollector config does not target an OpAMP agent");

  // Unchanged: never sent again, however many heartbeats.
  await a.beats(10);
  t.is(a.received.length, 1);

  // A commit that does not touch its map (a LoongCollector config) sends nothing either.
  const c1 = commitFiles(repo, { "configs/nginx.yaml": loong("nginx", `${NGINX}# v2\n`) });
  await waitForCommit(server.url, c1);
  await a.beats(10);
  t.is(a.received.length, 1);

  // A commit that breaks the collector's config: the new map once, FAILED with the agent's message.
  const c2 = commitFiles(repo, { "configs/collector.yaml": otel("collector", `${COLLECTOR}# broken\n`) });
  await waitForCommit(server.url, c2);
  await waitFor(() => a.received.length >= 2);
  t.not(hex(a.received[1]?.configHash as Uint8Array), firstHash);
  t.is(a.files(1).collector?.body, `${COLLECTOR}# broken\n`);
  const failed = await waitFor(async () => {
    const r = await rollout(server.url, "collector");
    return r.failed === 1 ? r : undefined;
  });
  t.deepEqual(failed.failures.map((f) => [f.message, f.agents]), [["receiver broken: unknown type", [a.uid]]]);
  const j2 = await agentJson(server.url, a.uid);
  t.like(j2.remoteConfig, { status: "FAILED", error: "receiver broken: unknown type" });
  t.deepEqual(j2.pipelineConfigs.find((c) => c.name === "collector"), { name: "collector", version: await versionOf(server.url, "collector") as number, status: "FAILED", message: "receiver broken: unknown type" });
  await a.beats(10);
  t.is(a.received.length, 2, "a FAILED map is not sent again while unchanged");

  // Removed from every group: an empty map (the agent removes what it ran).
  const c3 = commitFiles(repo, { "agent_groups/checkout.yaml": groupYaml("checkout", ["nginx"], [["service.name", "checkout"]]), "agent_groups/default.yaml": groupYaml("default", []) });
  await waitForCommit(server.url, c3);
  await waitFor(() => a.received.length >= 3);
  t.deepEqual(a.files(2), {});
  await waitFor(async () => (await agentJson(server.url, a.uid)).pipelineConfigs.length === 0);
  t.like(await rollout(server.url, "collector"), { targeted: 0 });

  // Restart: the new process lacks the agent, asks for its full state, and re-sends nothing.
  const emptyHash = hex(a.received[2]?.configHash as Uint8Array);
  await waitFor(async () => (await agentJson(server.url, a.uid)).remoteConfig?.hash === emptyHash);
  relay.pause();
  const seen = a.exchanges.length;
  await server.close();
  server = await startServer({ port: 0, repo, logger: log });
  relay.target(server.url);
  await waitFor(() => a.exchanges.slice(seen).some((x) => (x.s2a.flags & 1n) === 1n));
  const restarted = await waitFor(async () => {
    const j = (await callJson(server.url, "GET", `/api/v1/agents/${a.uid}`)).body as AgentJson;
    return j.remoteConfig?.hash === emptyHash ? j : undefined;
  });
  t.is(restarted.remoteConfig.status, "APPLIED");
  t.true(a.exchanges.slice(seen).some((x) => x.a2s.agentDescription !== undefined), "the agent sent its full state again");
  await a.beats(10);
  t.is(a.received.length, 3, "nothing re-sent after the restart");
});

test("OpAMP and LoongCollector agents in one fleet: each gets only its own configs; an agent that does not accept remote config is listed, not sent", async (t) => {
  const s = await withServer(t, { repo: fleetRepo() });
  const a = agent(s.url, { "service.name": "checkout", "host.name": "web-1" });
  t.teardown(() => a.stop());
  const listener = agent(s.url, { "service.name": "checkout" }, { capabilities: 0n });
  t.teardown(() => listener.stop());
  const v2 = new V2Agent(s.url, "loong-1", { "service.name": "checkout" });
  t.teardown(() => v2.cleanup());
  const beat = await v2.cycle();
  t.deepEqual(beat.pipelineUpdates.map((c) => c.name), ["nginx"], "the v2 agent of the same tags gets no opamp config");
  await waitFor(() => a.received.length >= 1);
  t.deepEqual(Object.keys(a.files(0)).sort(), ["collector", "elastic"]);
  await listener.beats(5);
  t.is(listener.received.length, 0);
  t.true(listener.exchanges.every((x) => x.s2a.remoteConfig === undefined));

  const list = await waitFor(async () => {
    const b = (await callJson(s.url, "GET", "/api/v1/agents")).body as { agents: { agentId: string; protocol: string }[] };
    return b.agents.length === 3 ? b.agents : undefined;
  });
  t.deepEqual(list.map((x) => [x.agentId, x.protocol]).sort(), [[a.uid, "opamp"], [listener.uid, "opamp"], ["loong-1", "v2"]].sort());
  const onlyOpamp = (await callJson(s.url, "GET", "/api/v1/agents?protocol=opamp")).body as { total: number };
  t.is(onlyOpamp.total, 2);
  t.like((await callJson(s.url, "GET", "/status")).body, { agentsByProtocol: { alpha: 0, v1: 0, v2: 1, opamp: 2 } });
  const quiet = await agentJson(s.url, listener.uid);
  t.deepEqual(quiet.capabilities, ["ReportsStatus", "ReportsHeartbeat"]);
  t.like(await rollout(s.url, "nginx"), { targeted: 1 });
});

test("OpAMP requests: bad input is a BadRequest ServerToAgent, gzip bodies are read, the agent token is required", async (t) => {
  const s = await withServer(t, { repo: fleetRepo(), agentToken: "s3cret" });
  const auth = { authorization: "Bearer s3cret", "content-type": "application/x-protobuf" };
  const uid = Buffer.from("0190d7e3a1b27c4d8e9f000011112222", "hex");
  const message = a2s({ instance_uid: uid, sequence_num: 1, capabilities: 3, agent_description: { identifying_attributes: [{ key: "service.name", value: { string_value: "checkout" } }] } });

  const refused = await send(s.url, "POST", "/v1/opamp", message, { "content-type": "application/x-protobuf" });
  t.is(refused.status, 401);
  t.regex(pb.ServerToAgent.decode(refused.body).error_response?.error_message ?? "", /agent token/);

  const garbage = await send(s.url, "POST", "/v1/opamp", Buffer.from([0x0a, 0xff, 0xff]), auth);
  t.is(garbage.status, 400);
  t.is(pb.ServerToAgent.decode(garbage.body).error_response?.type, pb.ServerErrorResponseType.ServerErrorResponseType_BadRequest);

  const noUid = await send(s.url, "POST", "/v1/opamp", a2s({ sequence_num: 1 }), auth);
  t.is(noUid.status, 400);
  t.regex(pb.ServerToAgent.decode(noUid.body).error_response?.error_message ?? "", /instance_uid/);

  const wrongEncoding = await send(s.url, "POST", "/v1/opamp", message, { ...auth, "content-encoding": "gzip" });
  t.is(wrongEncoding.status, 400);
  t.regex(pb.ServerToAgent.decode(wrongEncoding.body).error_response?.error_message ?? "", /not a gzip stream/);

  const bomb = await send(s.url, "POST", "/v1/opamp", gzipSync(Buffer.alloc(8 * 1024 * 1024)), { ...auth, "content-encoding": "gzip" });
  t.is(bomb.status, 400);
  t.regex(pb.ServerToAgent.decode(bomb.body).error_response?.error_message ?? "", /inflates beyond/);
  t.is(await agentCount(s.url), 0, "no bad request left an agent behind");

  const zipped = await send(s.url, "POST", "/v1/opamp", gzipSync(message), { ...auth, "content-encoding": "gzip" });
  t.is(zipped.status, 200);
  t.is(zipped.headers["content-type"], "application/x-protobuf");
  const answer = pb.ServerToAgent.decode(zipped.body);
  t.deepEqual(Buffer.from(answer.instance_uid), uid);
  t.deepEqual(Object.keys(answer.remote_config?.config?.config_map ?? {}).sort(), ["collector", "elastic"]);

  // A heartbeat of an agent this server never saw (no description): asked for its full state, sent nothing.
  const stranger = await send(s.url, "POST", "/v1/opamp", a2s({ instance_uid: Buffer.alloc(16, 7), sequence_num: 5, capabilities: 3 }), auth);
  const strangerAnswer = pb.ServerToAgent.decode(stranger.body);
  t.is(Number(strangerAnswer.flags) & 1, 1);
  t.is(strangerAnswer.remote_config, null);

  // A gap in the sequence numbers: full state asked again.
  const gap = await send(s.url, "POST", "/v1/opamp", a2s({ instance_uid: uid, sequence_num: 9, capabilities: 3 }), auth);
  const gapAnswer = pb.ServerToAgent.decode(gap.body);
  t.is(Number(gapAnswer.flags) & 1, 1);
  t.is(gapAnswer.remote_config, null, "an agent that reports no status is not sent the map it was sent already");
  const inStep = await send(s.url, "POST", "/v1/opamp", a2s({ instance_uid: uid, sequence_num: 10, capabilities: 3 }), auth);
  t.is(Number(pb.ServerToAgent.decode(inStep.body).flags), 0);

  // The real client sends the token as a header.
  const a = agent(s.url, { "service.name": "checkout" }, { headers: { authorization: "Bearer s3cret" } });
  t.teardown(() => a.stop());
  await waitFor(() => a.received.length >= 1);
  t.pass();
});

test("a Collector-like agent: heartbeat interval offered, health and effective config kept, drift against git per agent, disconnect", async (t) => {
  // A body limit that lets an effective config past what is kept of one through (64 KiB), to see what is kept.
  const s = await withServer(t, { repo: fleetRepo(), agentBodyLimit: 1024 * 1024 });
  const uid = Buffer.from("0190d7e3a1b27c4d8e9f0000aaaabbbb", "hex");
  const id = "0190d7e3-a1b2-7c4d-8e9f-0000aaaabbbb";
  // ReportsStatus | AcceptsRemoteConfig | ReportsEffectiveConfig | AcceptsOpAMPConnectionSettings | ReportsHealth | ReportsRemoteConfig | ReportsHeartbeat
  const capabilities = 0x1 | 0x2 | 0x4 | 0x100 | 0x800 | 0x1000 | 0x2000;
  const post = async (m: Record<string, unknown>) => {
    const raw = await send(s.url, "POST", "/v1/opamp", a2s({ instance_uid: uid, capabilities, ...m }), { "content-type": "application/x-protobuf" });
    t.is(raw.status, 200);
    return pb.ServerToAgent.decode(raw.body);
  };
  const effective = (body: string) => ({ config_map: { config_map: { collector: { body: Buffer.from(body), content_type: "application/yaml" }, "local.yaml": { body: Buffer.from("extensions: {}\n"), content_type: "application/yaml" } } } });
  const first = await post({
    sequence_num: 1,
    agent_description: { identifying_attributes: [{ key: "service.name", value: { string_value: "checkout" } }, { key: "service.version", value: { string_value: "0.120.0" } }], non_identifying_attributes: [{ key: "host.name", value: { string_value: "node-3" } }, { key: "pid", value: { int_value: 42 } }] },
    health: { healthy: true, status: "StatusOK", start_time_unix_nano: 1_700_000_000_000_000_000n.toString() },
    effective_config: effective("old: true\n"),
  });
  t.is(Number(first.connection_settings?.opamp?.heartbeat_interval_seconds), 30, "a heartbeat interval is offered to an agent that accepts connection settings");
  t.deepEqual(Object.keys(first.remote_config?.config?.config_map ?? {}).sort(), ["collector", "elastic"]);
  const hash = first.remote_config?.config_hash as Uint8Array;
  const detail = async () => (await callJson(s.url, "GET", `/api/v1/agents/${id}`)).body as Record<string, unknown> & { drift: { state: string; files: { name: string; state: string }[]; unmanaged: string[] } };
  const d1 = await detail();
  t.like(d1, { protocol: "opamp", agentType: "checkout", version: "0.120.0", hostname: "node-3", runningStatus: "StatusOK", healthy: true, startupTime: 1_700_000_000 });
  t.like(d1.tags as object, { pid: "42", "host.name": "node-3" });
  t.deepEqual(d1.attributes, {}, "status keys are not listed as attributes");
  t.deepEqual(d1.capabilities, ["ReportsStatus", "AcceptsRemoteConfig", "ReportsEffectiveConfig", "AcceptsOpAMPConnectionSettings", "ReportsHealth", "ReportsRemoteConfig", "ReportsHeartbeat"]);
  t.deepEqual(d1.drift, { state: "drift", files: [{ name: "collector", state: "differs" }, { name: "elastic", state: "missing" }], unmanaged: ["local.yaml"] });

  // It applies the map: its effective config now holds what git says.
  const second = await post({
    sequence_num: 2,
    remote_config_status: { last_remote_config_hash: hash, status: pb.RemoteConfigStatuses.RemoteConfigStatuses_APPLIED },
    effective_config: { config_map: { config_map: { ...effective(COLLECTOR).config_map.config_map, elastic: { body: Buffer.from(ELASTIC), content_type: "application/json" } } } },
  });
  t.is(second.remote_config, null);
  t.is(second.connection_settings, null, "offered once");
  const d2 = await detail();
  t.is(d2.drift.state, "none");
  t.like(d2.effectiveConfig as object, { collector: { contentType: "application/yaml", size: COLLECTOR.length, body: COLLECTOR } });

  // Someone edits the file on the host: drift, per agent.
  await post({ sequence_num: 3, effective_config: effective(`${COLLECTOR}# edited by hand\n`), health: { healthy: false, last_error: "exporter otlp: connection refused" } });
  const d3 = await detail();
  t.deepEqual(d3.drift.files, [{ name: "collector", state: "differs" }, { name: "elastic", state: "missing" }]);
  t.like(d3, { healthy: false, runningStatus: "unhealthy", health: { healthy: false, status: "", lastError: "exporter otlp: connection refused" } });
  t.like(d3.remoteConfig as object, { status: "APPLIED", hash: Buffer.from(hash).toString("hex") }, "the status it reported before is kept (it is not resent)");

  // An oversized effective config is kept without its bodies: drift unknown, not a false alarm.
  await post({ sequence_num: 4, effective_config: effective("x".repeat(100 * 1024)) });
  t.deepEqual((await detail()).drift.files[0], { name: "collector", state: "unknown" });

  await post({ sequence_num: 5, agent_disconnect: {} });
  t.is((await detail()).runningStatus, "disconnected");
});

test("validate accepts agent_type: opamp configs with YAML or JSON content and refuses broken ones", async (t) => {
  const { runCli } = await import("./helpers/cli.ts");
  const repo = fleetRepo();
  const ok = await runCli(["validate", repo]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.notRegex(ok.stdout + ok.stderr, /collector|elastic/, "no warning about OpAMP configs");
  commitFiles(repo, { "configs/elastic.yaml": otel("elastic", '{"logging_level": ') });
  const bad = await runCli(["validate", repo]);
  t.is(bad.code, 1);
  t.regex(bad.stdout + bad.stderr, /configs\/elastic\.yaml/);
});

test("with no commit to serve, an OpAMP agent is listed and told Unavailable with retry info, never sent an empty map", async (t) => {
  const s = await withServer(t);
  const uid = Buffer.alloc(16, 9);
  const raw = await send(s.url, "POST", "/v1/opamp", a2s({ instance_uid: uid, sequence_num: 1, capabilities: 3, agent_description: { identifying_attributes: [{ key: "service.name", value: { string_value: "x" } }] } }), { "content-type": "application/x-protobuf" });
  t.is(raw.status, 503);
  const answer = pb.ServerToAgent.decode(raw.body);
  t.deepEqual(Buffer.from(answer.instance_uid), uid);
  t.is(answer.remote_config, null);
  t.is(answer.error_response?.type, pb.ServerErrorResponseType.ServerErrorResponseType_Unavailable);
  t.is(Number(answer.error_response?.retry_info?.retry_after_nanoseconds), 30e9);
  t.regex(answer.error_response?.error_message ?? "", /no valid commit/);
  t.is(await agentCount(s.url), 1);
});
