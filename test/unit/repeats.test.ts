// src/protocols/repeats.ts: a request that repeats an agent's last one is answered from memory
// only when decoding and handling it would give the same answer and record the same things.
// Driven through the real routes' specs (handler, then remember, as compileRoute does).
import type { IncomingMessage } from "node:http";
import test from "ava";
import { MemoryRegistry } from "../../src/agents/memoryRegistry.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import type { ConfigRecord, GroupSpec } from "../../src/domain/types.ts";
import { configserver } from "../../src/gen/proto.js";
import type { AgentRecord } from "../../src/domain/agent.ts";
import { CacheableReply, memoOf as memoOfRecord, type RepeatCache } from "../../src/protocols/answerCache.ts";
import type { AgentRoutes } from "../../src/protocols/protocol.ts";
import type { Replied, Reply, RouteSpec } from "../../src/protocols/routeContract.ts";
import { alphaRoutes } from "../../src/protocols/alpha/routes.ts";
import { v1Routes } from "../../src/protocols/v1/routes.ts";
import { v2Routes } from "../../src/protocols/v2/routes.ts";

const pb = configserver.proto;
const REQ = {} as IncomingMessage;
const config = (name: string, version: number): ConfigRecord => ({ name, agentType: "", description: "", content: `{"inputs":[{"Type":"input_file"}]}`, version, commit: `c${version}` });
const groups: GroupSpec[] = [{ name: "g", description: "", tags: [{ name: "env", value: "prod" }], configs: ["a"] }];
const snapshot = (commit: string, version: number) => new RepoState(commit, 1, 0, [config("a", version)], groups);

interface Codec { decode(b: Uint8Array): unknown; encode(m: object): { finish(): Uint8Array } }

function fixture(path: string, routes: (deps: { registry: MemoryRegistry; store: { state: RepoState } }) => AgentRoutes) {
  const clock = { now: 1_800_000_000_000 };
  const registry = new MemoryRegistry({ ttlMs: 60_000, now: () => clock.now });
  const store = { state: snapshot("c1", 1) };
  const spec = routes({ registry, store }).find((r) => r.path === path) as unknown as RouteSpec<unknown> & { request: Codec };
  const repeats = spec.repeats as RepeatCache<unknown>;
  /** What compileRoute does for a binary body: recall, else decode, handle and remember a cacheable reply. */
  const answer = (message: object): { reply: Reply; recalled: boolean; echo: unknown } => {
    const body = Buffer.from(spec.request.encode(message).finish());
    const again = repeats.recall(body, REQ);
    if (again !== undefined) return { reply: again.reply, recalled: true, echo: repeats.echo };
    const q = spec.request.decode(body);
    const out = spec.handle(q as never, REQ) as Replied;
    if (out instanceof CacheableReply) repeats.remember(body, q, out);
    return { reply: out instanceof CacheableReply ? out.reply : out, recalled: false, echo: (q as { request_id?: unknown }).request_id };
  };
  return { clock, registry, store, answer };
}

test("alpha HeartBeat: the same heartbeat with a new id is answered from memory; the agent's times move, its record does not", (t) => {
  const f = fixture("/Agent/HeartBeat", alphaRoutes);
  const beat = (id: string, over: object = {}) => ({ request_id: id, agent_id: "a1", agent_type: "iLogtail", tags: { env: "prod" }, running_status: "ok", startup_time: 5, ...over });
  const first = f.answer(beat("r1"));
  t.false(first.recalled, "nothing is known of the agent yet");
  const record = f.registry.get("a1");
  const heartbeat = record?.heartbeat;
  f.clock.now += 7_000;
  const second = f.answer(beat("r2"));
  t.true(second.recalled);
  t.is(second.echo, "r2", "the answer carries this request's id");
  t.is(second.reply, first.reply);
  t.is(f.registry.get("a1")?.heartbeat, heartbeat);
  t.is(f.registry.get("a1")?.lastSeenMs, f.clock.now, "the agent was seen now");
  t.is(f.registry.get("a1")?.latestHeartbeatTime, Math.floor(f.clock.now / 1000));

  // Anything else in the bytes is decoded and recorded.
  const moved = f.answer(beat("r3", { tags: { env: "dev" } }));
  t.false(moved.recalled, "other tags are another request");
  t.deepEqual(f.registry.get("a1")?.heartbeat?.tags.named, { env: "dev" });
  t.true(f.answer(beat("r4", { tags: { env: "dev" } })).recalled, "and that one is remembered in turn");
  // The record changed by another request (here: a status) → decoded again.
  f.registry.heartbeat({ ...(f.registry.get("a1")?.heartbeat as NonNullable<ReturnType<MemoryRegistry["get"]>>["heartbeat"] & object), runningStatus: "stopping" });
  t.false(f.answer(beat("r5", { tags: { env: "dev" } })).recalled, "a record changed meanwhile is not answered from memory");
  t.is(f.registry.get("a1")?.heartbeat?.runningStatus, "ok");
});

test("alpha HeartBeat: an expired agent, a second id field and a bad request id are never answered from memory", (t) => {
  const f = fixture("/Agent/HeartBeat", alphaRoutes);
  const beat = (id: string) => ({ request_id: id, agent_id: "a1", tags: { env: "prod" } });
  f.answer(beat("r1"));
  t.true(f.answer(beat("r2")).recalled);
  f.clock.now += 61_000;
  t.false(f.answer(beat("r3")).recalled, "past the TTL the agent is new again");
  t.true(f.answer(beat("r4")).recalled);

  // Field 2 (agent_id) twice: decoding takes the last one; such a body is never remembered.
  const spec = alphaRoutes({ registry: f.registry, store: f.store }).find((r) => r.path === "/Agent/HeartBeat") as unknown as RouteSpec<unknown>;
  const plain = Buffer.from(pb.HeartBeatRequest.encode({ request_id: "x", agent_id: "b1" }).finish());
  const twice = Buffer.concat([plain, Buffer.from(pb.HeartBeatRequest.encode({ agent_id: "b2" }).finish())]);
  const repeats = spec.repeats as RepeatCache<unknown>;
  const q = pb.HeartBeatRequest.decode(twice);
  t.is(q.agent_id, "b2");
  const reply = spec.handle(q as never, REQ) as CacheableReply;
  t.true(reply instanceof CacheableReply);
  repeats.remember(twice, q, reply);
  t.is(repeats.recall(twice, REQ), undefined, "a body naming the agent twice is decoded every time");

  // A request id that is not UTF-8: decoding refuses it, so the memory must not answer it.
  const bad = Buffer.from(pb.HeartBeatRequest.encode(beat("rr")).finish());
  t.is(bad[0], 0x0a);
  bad[2] = 0xff;
  t.is(repeats.recall(bad, REQ), undefined);
  t.throws(() => pb.HeartBeatRequest.decode(bad), undefined, "the decoder refuses the same bytes");
});

test("alpha GetConfigList: the memory holds only while the served commit's applied list is the same", (t) => {
  const f = fixture("/Agent/GetConfigList", alphaRoutes);
  f.registry.heartbeat({ agentId: "a1", protocol: "alpha", attributes: { agentType: "", version: "", ip: "", hostname: "", extras: {} }, tags: { named: { env: "prod" } }, runningStatus: "", startupTime: 0 });
  const poll = (id: string) => ({ request_id: id, agent_id: "a1", config_versions: { a: 1 } });
  const first = f.answer(poll("p1"));
  const statuses = (r: Reply) => pb.AgentGetConfigListResponse.fromObject(r as object).config_update_infos.map((c) => [c.update_status, Number(c.config_version)]);
  t.deepEqual(statuses(first.reply), [[pb.ConfigUpdateInfo.UpdateStatus.SAME, 0]], "SAME carries no version");
  t.true(f.answer(poll("p2")).recalled);
  // A new commit with a new version of the config: the same poll now needs the update.
  f.store.state = snapshot("c2", 2);
  const after = f.answer(poll("p3"));
  t.false(after.recalled, "a new snapshot ends the memory");
  t.deepEqual(statuses(after.reply), [[pb.ConfigUpdateInfo.UpdateStatus.MODIFIED, 2]]);
});

test("v2 Heartbeat: remembered only for a known agent whose sequence number follows; a gap asks for the full state again", (t) => {
  const f = fixture("/Agent/Heartbeat", (deps) => v2Routes(deps));
  const id = Buffer.from("i-1");
  const beat = (seq: number, flags = 0) => ({
    request_id: Buffer.from(`req-${seq}`), sequence_num: seq, capabilities: 3, instance_id: id, agent_type: "LoongCollector",
    tags: [{ name: "env", value: "prod" }], running_status: "running", startup_time: 1, flags,
    continuous_pipeline_configs: [{ name: "a", version: 1, status: 2, message: "" }],
  });
  const fullState = (r: Reply) => (Number((r as { flags?: unknown }).flags ?? 0) & 1) === 1;
  t.true(fullState(f.answer(beat(0)).reply), "a first sight asks for the full state");
  t.false(f.answer(beat(1, 1)).recalled);
  const next = f.answer(beat(2, 1));
  t.true(next.recalled, "the next beat, with the next sequence number");
  t.deepEqual(next.echo, Buffer.from("req-2"));
  t.is(f.registry.get("i-1")?.sequenceNum, 2, "the sequence number is recorded");
  t.true(f.answer(beat(3, 1)).recalled);
  const gap = f.answer(beat(9, 0));
  t.false(gap.recalled, "a gap is decoded");
  t.true(fullState(gap.reply), "and the agent is asked for its full state");
});

test("v1 HeartBeat: a Legacy agent holding every config served, agent configs included, is answered from memory", (t) => {
  const instance = { name: "loong", description: "", content: "{}", version: 1, commit: "c1" };
  const f = fixture("/Agent/HeartBeat", v1Routes);
  f.store.state = new RepoState("c1", 1, 0, [config("a", 1)], [{ ...(groups[0] as GroupSpec), tags: [{ name: "env", value: "prod" }], instanceConfigs: ["loong"] }], [instance]);
  const beat = (id: string, agentConfigs = [{ name: "loong", version: 1 }]) => ({
    request_id: id, agent_id: "v1-a", agent_type: "iLogtail", attributes: { version: "2.0", ip: "10.0.0.1" }, tags: ["prod"], running_status: "running", startup_time: 1, interval: 10,
    pipeline_configs: [{ name: "a", version: 1 }], agent_configs: agentConfigs,
  });
  const first = f.answer(beat("h1"));
  t.false(first.recalled);
  t.deepEqual(pb.v1.HeartBeatResponse.fromObject(first.reply as object).pipeline_check_results, [], "nothing to check");
  t.true(f.answer(beat("h2")).recalled, "the next identical heartbeat");
  t.true(f.answer(beat("h3")).recalled);
  const stale = f.answer(beat("h4", [{ name: "loong", version: 0 }]));
  t.false(stale.recalled, "another version of the agent config is decoded");
  t.is(pb.v1.HeartBeatResponse.fromObject(stale.reply as object).agent_check_results.length, 1, "and answered with its check result");
});

test("agents sending the same bytes but their id share one signature, and are never answered for one another", (t) => {
  const f = fixture("/Agent/GetConfigList", alphaRoutes);
  const spec = alphaRoutes({ registry: f.registry, store: f.store }).find((r) => r.path === "/Agent/GetConfigList") as unknown as RouteSpec<unknown>;
  const repeats = spec.repeats as RepeatCache<unknown>;
  // The memo is kept on the agent's record (answerCache.ts's port): the only route used here.
  const memoOf = (agent: string) => memoOfRecord(f.registry.get(agent) as AgentRecord) as { signature: Buffer } | undefined;
  const poll = (agent: string, id: string, versions: Record<string, number> = { a: 1 }) => Buffer.from(pb.AgentGetConfigListRequest.encode({ request_id: id, agent_id: agent, config_versions: versions as never }).finish());
  const handle = (body: Buffer) => {
    const again = repeats.recall(body, REQ);
    if (again !== undefined) return { reply: again, recalled: true };
    const q = pb.AgentGetConfigListRequest.decode(body);
    const reply = spec.handle(q as never, REQ) as Replied;
    if (reply instanceof CacheableReply) repeats.remember(body, q, reply);
    return { reply, recalled: false };
  };
  for (const agent of ["a1", "a2"]) f.registry.heartbeat({ agentId: agent, protocol: "alpha", attributes: { agentType: "", version: "", ip: "", hostname: "", extras: {} }, tags: { named: { env: "prod" } }, runningStatus: "", startupTime: 0 });
  handle(poll("a1", "p1"));
  handle(poll("a2", "p2"));
  const s1 = memoOf("a1")?.signature;
  t.truthy(s1);
  t.is(memoOf("a2")?.signature, s1, "one copy of the bytes for both");
  t.true(handle(poll("a1", "p3")).recalled);
  t.true(handle(poll("a2", "p4")).recalled);
  // a1 now holds another version: its bytes differ; a2's memory is untouched.
  const moved = handle(poll("a1", "p5", { a: 0 }));
  t.false(moved.recalled);
  t.deepEqual(pb.AgentGetConfigListResponse.fromObject(moved.reply as object).config_update_infos.map((c) => c.update_status), [pb.ConfigUpdateInfo.UpdateStatus.MODIFIED]);
  t.true(handle(poll("a2", "p6")).recalled);
  // An id that is another agent's: that agent's memory, never the first one's.
  t.is(repeats.recall(poll("a3", "p7"), REQ), undefined, "an unknown agent with the same bytes is decoded (and refused), not answered");
  t.throws(() => handle(poll("a3", "p8")), { message: "Agent a3 doesn't exist." });
});

test("the repeat memory is bounded by bytes: a request over 16 KiB is not remembered, and is decoded each time (issue 23)", (t) => {
  const f = fixture("/Agent/HeartBeat", alphaRoutes);
  const beat = (id: string, status: string) => ({ request_id: id, agent_id: "a1", agent_type: "iLogtail", tags: { env: "prod" }, running_status: status, startup_time: 5 });
  const big = "s".repeat(17 * 1024);
  t.false(f.answer(beat("r1", big)).recalled);
  t.is(f.registry.get("a1")?.repeatMemo, undefined, "nothing remembered");
  t.false(f.answer(beat("r2", big)).recalled, "the same large request is decoded again");
  // Just under the bound: remembered as usual.
  const small = "s".repeat(15 * 1024);
  t.false(f.answer(beat("r3", small)).recalled);
  t.true(f.answer(beat("r4", small)).recalled);
});
