// Reads internals: drives RedisRegistry objects directly (two registries on one real Redis, Redis
// stopped and started under them, expiry) and reads the records as the registry stores them in
// Redis (decodeStored); several servers sharing a Redis are tested from outside in
// test/replicas.test.ts.
import test from "ava";
import pino from "pino";
import { decodeStored } from "../../src/agents/agentCodec.ts";
import { RedisRegistry } from "../../src/agents/redisRegistry.ts";
import type { Heartbeat } from "../../src/domain/agent.ts";
import { startRedis } from "../helpers/redis.ts";
import { waitFor, withServer } from "../helpers/server.ts";

const silent = pino({ level: "silent" });
const beat = (i: number, env = "prod"): Heartbeat => ({
  agentId: `agent-${String(i).padStart(6, "0")}`,
  protocol: i % 2 ? "v2" : "alpha",
  attributes: { agentType: "LoongCollector", version: "3.0.5", ip: `10.0.${i >> 8 & 255}.${i & 255}`, hostname: `host-${i}`, extras: {} },
  tags: { named: { env, app: `app${i % 7}` } },
  runningStatus: "running",
  startupTime: 1_700_000_000,
});
const reports = [{ name: "c1", version: 3, status: 2 as const, message: "" }, { name: "c2", version: 4, status: 3 as const, message: "bad input" }];

test("one server on Redis: a heartbeat shows in ListAgents and in Redis, with the agent TTL as the key's expiry", async (t) => {
  const redis = await startRedis(t);
  const s = await withServer(t, { registry: redis.url, agentTtlMs: 60_000 });
  const r = await s.api.heartbeat({ agent_id: "a-1", agent_type: "ilogtail", agent_version: "1.8", ip: "10.0.0.1", tags: { env: "prod" }, running_status: "running", startup_time: 1 });
  t.is(r.status, 200);
  const list = await s.api.listAgents({ group_name: "default" });
  t.deepEqual(list.body.agents.map((a) => a.agent_id), ["a-1"]);
  const c = redis.client();
  const stored = decodeStored((await c.get("cs:a:a-1")) ?? "");
  t.regex(stored.h, /"prod"/);
  t.is(stored.times.latestHeartbeatTime, Math.floor(stored.times.lastSeenMs / 1000));
  const ttl = await c.pttl("cs:a:a-1");
  t.true(ttl > 50_000 && ttl <= 60_000, `pttl ${ttl}`);
});

test("two registries on one Redis list the same 25,000 agents, whatever wrote them, and see changes to parts and times", async (t) => {
  const redis = await startRedis(t);
  const a = new RedisRegistry({ url: redis.url, ttlMs: 600_000, logger: silent });
  const b = new RedisRegistry({ url: redis.url, ttlMs: 600_000, logger: silent });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await waitFor(() => a.status().degraded === false && b.status().degraded === false);
  // More than one catch-up chunk (10,000 log entries) and many write batches (1,000 agents each).
  for (let i = 0; i < 25_000; i++) (i % 3 === 0 ? b : a).heartbeat(beat(i));
  a.reportConfigs("agent-000002", "pipeline", reports);
  b.alarm("agent-000003", "CONFIG_ALARM", "cannot parse");
  await Promise.all([a.flushNow(), b.flushNow()]);
  const la = await a.list();
  const lb = await b.list();
  t.is(la.length, 25_000);
  t.deepEqual(la.map((r) => r.agentId), lb.map((r) => r.agentId));
  t.deepEqual(la.map((r) => r.agentId), [...la.map((r) => r.agentId)].sort());
  const two = await b.find("agent-000002");
  t.deepEqual(two?.pipelines.map((p) => [p.name, p.version, p.status, p.message]), [["c1", 3, 2, ""], ["c2", 4, 3, "bad input"]]);
  t.deepEqual((await a.find("agent-000003"))?.alarms.map((x) => x.detail), ["cannot parse"]);
  t.deepEqual(two?.heartbeat?.tags.named, { env: "prod", app: "app2" });
  // A changed tag set and a later heartbeat time reach the other replica's listing.
  const before = (await b.list()).find((r) => r.agentId === "agent-000004")?.lastSeenMs ?? 0;
  await waitFor(() => Date.now() > before + 5);
  a.heartbeat(beat(4, "staging"));
  await a.flushNow();
  const after = (await b.list()).find((r) => r.agentId === "agent-000004");
  t.deepEqual(after?.heartbeat?.tags.named, { env: "staging", app: "app4" });
  t.true((after?.lastSeenMs ?? 0) > before);
  // The agent moves to B, which has never seen it: B's heartbeat does not wipe what A stored.
  a.reportConfigs("agent-000005", "pipeline", reports);
  a.alarm("agent-000005", "CONFIG_ALARM", "seen by A");
  await a.flushNow();
  t.is(b.get("agent-000005"), undefined);
  b.heartbeat(beat(5, "moved"));
  await b.flushNow();
  const moved = await a.find("agent-000005");
  t.deepEqual(moved?.heartbeat?.tags.named, { env: "moved", app: "app5" });
  t.is(moved?.pipelines.length, 2);
  t.deepEqual(moved?.alarms.map((x) => x.detail), ["seen by A"]);
  t.is(await a.liveCount(), 25_000);
  t.is(await b.liveCount(), 25_000);
});

test("Redis down: changes are held up to the bound, then dropped and counted; back: every local agent is written again", async (t) => {
  const redis = await startRedis(t);
  const a = new RedisRegistry({ url: redis.url, ttlMs: 600_000, logger: silent, maxPending: 50 });
  const b = new RedisRegistry({ url: redis.url, ttlMs: 600_000, logger: silent });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await waitFor(() => !a.status().degraded);
  for (let i = 0; i < 10; i++) a.heartbeat(beat(i));
  // B sees A's agents once A has written them (within its 100 ms write-behind).
  await waitFor(async () => (await b.list()).length === 10);
  await redis.stop();
  await waitFor(() => a.status().degraded);
  for (let i = 10; i < 200; i++) a.heartbeat(beat(i));
  const down = a.status();
  t.true(down.degraded);
  t.is(down.pendingWrites, 50);
  t.is(down.droppedWrites, 140);
  t.regex(down.reason ?? "", /Redis is unreachable/);
  // The agent path answered throughout; listings answer what this replica knows.
  t.truthy(a.get("agent-000199"));
  t.is((await a.list()).length, 200);
  await redis.start();
  await waitFor(async () => (await b.list()).length === 200, { timeoutMs: 15_000 });
  await waitFor(() => !a.status().degraded);
  t.is(a.status().pendingWrites, 0);
  t.is(a.status().droppedWrites, 140, "the count of dropped changes stays");
});

test.serial("an agent silent for the TTL leaves every replica's listing; its record expires in Redis and the sweep drops its log entry", async (t) => {
  const redis = await startRedis(t);
  const a = new RedisRegistry({ url: redis.url, ttlMs: 1500, logger: silent });
  const b = new RedisRegistry({ url: redis.url, ttlMs: 1500, logger: silent });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  await waitFor(() => !a.status().degraded && !b.status().degraded);
  // The agent talks to A every 200 ms, for longer than the TTL: B lists it throughout.
  const talk = () => {
    a.statistics("agent-000001", { cpu: 0.5, memory: "100", extras: {} });
    a.heartbeat(beat(1));
  };
  talk();
  const agent = setInterval(talk, 200);
  t.teardown(() => clearInterval(agent));
  const started = Date.now();
  await waitFor(async () => (await b.list()).length === 1);
  await waitFor(async () => Date.now() - started > 2000 && (await b.list()).length === 1);
  t.is((await b.find("agent-000001"))?.statistics?.cpu, 0.5);
  const c = redis.client();
  t.is(await c.zcard("cs:log"), 1);
  clearInterval(agent);
  await waitFor(async () => (await b.list()).length === 0 && (await a.list()).length === 0, { timeoutMs: 10_000 });
  await waitFor(async () => (await c.exists("cs:a:agent-000001")) === 0, { timeoutMs: 10_000 });
  b.sweep();
  await waitFor(async () => (await c.zcard("cs:log")) === 0);
  t.is(await b.find("agent-000001"), undefined);
});
