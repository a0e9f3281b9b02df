import test from "ava";
import { MemoryRegistry } from "../../src/agents/memoryRegistry.ts";
import { ReplicaRegistry } from "../../src/agents/replicaRegistry.ts";
import { decodeBatch, encodeBatch, isEmptyBatch, WHOLE, type ChangeBatch } from "../../src/agents/replication.ts";
import { WorkerFleet } from "../../src/agents/workerFleet.ts";
import { DeferredChanges } from "../../src/cluster/deferredChanges.ts";
import { FULL, Part } from "../../src/agents/agentCodec.ts";
import type { AgentRecord, Heartbeat } from "../../src/domain/agent.ts";

const beat = (agentId: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
  agentId, protocol: "alpha", attributes: { agentType: "ilogtail", version: "1.8.0", ip: "10.0.0.1", hostname: "", extras: {} },
  tags: { named: { env: "prod" } }, runningStatus: "running", startupTime: 1_700_000_000, ...over,
});

/** What a listing shows of a record (object identity, interning and absent-or-undefined keys aside). */
const view = (r: AgentRecord) => JSON.parse(JSON.stringify({
  id: r.agentId, hb: r.heartbeat && { ...r.heartbeat, tags: { ...r.heartbeat.tags } }, times: [r.lastSeenMs, r.latestHeartbeatTime, r.reportedMs],
  pipelines: r.pipelines.map((c) => ({ ...c })), instances: r.instances.map((c) => ({ ...c })), statistics: r.statistics, alarms: r.alarms.map((a) => ({ ...a })),
})) as { id: string; hb?: Heartbeat; times: number[]; pipelines: { name: string; message: string }[]; statistics?: unknown };
const all = async (reg: { list(): Promise<AgentRecord[]> }) => (await reg.list()).map(view);

/**
 * A server's processes in one: workers whose batches reach a primary (a WorkerFleet over a
 * MemoryRegistry) that passes on at once what agents' requests read and holds the rest
 * (DeferredChanges) until a listing flushes, synchronously, as the IPC channel would in order.
 */
function server(workers: number, clock: { now: number }, primaryTtlMs = 60_000) {
  const primary = new MemoryRegistry({ ttlMs: primaryTtlMs, now: () => clock.now });
  const replicas: ReplicaRegistry[] = [];
  const deferred: DeferredChanges[] = [];
  const sent: ChangeBatch[] = [];
  const relay = (from: number, batch: ChangeBatch) => replicas.forEach((r, i) => {
    if (i === from) return;
    const lacking = r.absorb(batch);
    if (lacking.length > 0) fleet.wholeBatches(100, (b) => r.absorb(b), lacking);
  });
  const fleet = new WorkerFleet(primary, async () => {
    for (const r of replicas) r.flush();
    deferred.forEach((h, i) => {
      const b = h.drain();
      if (b !== undefined) relay(i, b);
    });
  });
  const deliver = (from: number, batch: ChangeBatch) => {
    sent.push(batch);
    const missing = fleet.absorbBatch(batch);
    if (missing.length > 0) replicas[from]?.resend(missing);
    const now = deferred[from]?.take(batch);
    if (now !== undefined) relay(from, now);
  };
  for (let i = 0; i < workers; i++) {
    deferred.push(new DeferredChanges());
    replicas.push(new ReplicaRegistry({ ttlMs: 60_000, now: () => clock.now, flushMs: 3_600_000, send: (b) => deliver(i, b) }));
  }
  return { primary, fleet, replicas, sent };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

test("every process holds the same records after changes on several workers, an agent moving between them included", async (t) => {
  const clock = { now: 1_796_000_000_000 };
  const { primary, fleet, replicas, sent } = server(2, clock);
  const [a, b] = replicas as [ReplicaRegistry, ReplicaRegistry];
  a.heartbeat(beat("alpha-1"));
  a.reportConfigs("alpha-1", "pipeline", [{ name: "c1", version: 3, status: 0, message: "" }]);
  clock.now += 5;
  b.heartbeat(beat("v2-1", { protocol: "v2", tags: { named: { env: "dev", app: "x" } }, capabilities: 3, sequenceNum: 0 }));
  b.reportConfigs("v2-1", "pipeline", [{ name: "c1", version: 3, status: 2, message: "" }, { name: "c2", version: 4, status: 3, message: "bad\nline" }]);
  b.statistics("alpha-1", { cpu: 0.5, memory: "123", extras: { k: "v" } });
  clock.now += 5;
  a.heartbeat(beat("v1-1", { protocol: "v1", tags: { named: {}, values: ["prod", "web"] }, intervalSeconds: 30 }));
  a.alarm("v1-1", "CONFIG_ALARM", "detail");
  await settle();
  t.true(sent.length > 0, "structural changes went without waiting for the timer");
  // The agent moves to the other worker: its record there is the one A made, and it stays whole.
  clock.now += 1000;
  const previous = b.heartbeat(beat("alpha-1"));
  t.truthy(previous, "B knows the agent A heard");
  b.updateConfigs("alpha-1", "pipeline", [{ name: "c0", version: 1, status: 0, message: "" }]);
  clock.now += 1000;
  t.is(a.get("v2-1")?.sequenceNum, 0, "the v2 sequence number follows the agent");
  a.heartbeat(beat("v2-1", { protocol: "v2", tags: { named: { env: "dev", app: "x" } }, capabilities: 3, sequenceNum: 1 }));
  await fleet.list();
  const expected = await all(primary);
  t.is(expected.length, 3);
  t.deepEqual(await all(a), expected);
  t.deepEqual(await all(b), expected);
  const moved = expected.find((r) => r.id === "alpha-1");
  t.deepEqual(moved?.pipelines.map((c) => c.name), ["c0", "c1"], "the report merged over the record the other worker made");
  t.deepEqual(moved?.statistics, { cpu: 0.5, memory: "123", extras: { k: "v" } });
  t.is(moved?.times[0], clock.now - 1000);
  t.deepEqual(expected.find((r) => r.id === "v1-1")?.hb?.tags, { named: {}, values: ["prod", "web"] });
  t.is(expected.find((r) => r.id === "v2-1")?.pipelines[1]?.message, "bad\nline");
});

test("changes of the times alone wait for the flush; a structural change is sent in the same turn", async (t) => {
  const clock = { now: 1_796_000_000_000 };
  const { replicas, sent, primary } = server(2, clock);
  const [a] = replicas as [ReplicaRegistry];
  a.heartbeat(beat("x"));
  await Promise.resolve();
  t.is(sent.length, 1, "sent before the next microtask of the request");
  clock.now += 2000;
  a.heartbeat(beat("x"));
  await settle();
  t.is(sent.length, 1, "a heartbeat that moved only the times waits");
  t.is(primary.findLocal("x")?.lastSeenMs, clock.now - 2000);
  a.flush();
  t.is(sent.length, 2);
  t.is(primary.findLocal("x")?.lastSeenMs, clock.now);
  t.regex((sent[1] as ChangeBatch).times, /^\d{36}\x1fx\n$/);
});

test("absorb: times only move forward; a live record takes only the changed parts; a missing one needs the whole record", (t) => {
  const reg = new MemoryRegistry({ ttlMs: 1000, now: () => 10_000 });
  const times = { lastSeenMs: 9_500, latestHeartbeatTime: 9, reportedMs: 9_500 };
  t.is(reg.absorb({ agentId: "a", ...times, mask: Part.P, pipelines: [] }), undefined, "parts without the whole record of an unknown agent");
  const whole = { heartbeat: beat("a"), pipelines: [{ name: "c", version: 1, status: 0 as const, message: "" }], instances: [], statistics: undefined, alarms: [{ type: "t", detail: "d", time: 9 }] };
  t.like(reg.absorb({ agentId: "a", ...times, mask: Part.H, whole }), { created: true, parts: FULL });
  t.deepEqual(reg.findLocal("a")?.alarms, [{ type: "t", detail: "d", time: 9 }]);
  // Whole again (another worker's first sight) over the live record: only the parts it changed.
  t.like(reg.absorb({ agentId: "a", lastSeenMs: 9_000, latestHeartbeatTime: 8, reportedMs: 0, mask: Part.H, whole: { ...whole, alarms: [], heartbeat: beat("a", { attributes: { agentType: "ilogtail", version: "2.0", ip: "10.0.0.1", hostname: "", extras: {} } }) } }), { created: false, parts: Part.H });
  const r = reg.findLocal("a");
  t.is(r?.heartbeat?.attributes.version, "2.0");
  t.is(r?.alarms.length, 1, "alarms were not in the mask");
  t.deepEqual([r?.lastSeenMs, r?.latestHeartbeatTime, r?.reportedMs], [9_500, 9, 9_500], "older times do not move them back");
});

test("a batch round-trips: times lines with the v2 sequence, records with only their changed parts, ids with a line break as records", (t) => {
  const reg = new MemoryRegistry({ ttlMs: 0, now: () => 1_796_000_000_000 });
  reg.heartbeat(beat("plain", { protocol: "v2", sequenceNum: 7 }));
  reg.heartbeat(beat("line\nbreak"));
  reg.statistics("plain", { cpu: 1, memory: "2", extras: {} });
  const plain = reg.findLocal("plain") as AgentRecord;
  const odd = reg.findLocal("line\nbreak") as AgentRecord;
  const batch = encodeBatch([[plain, 0], [odd, 0], [plain, Part.S], [odd, Part.H | WHOLE]]);
  t.false(isEmptyBatch(batch));
  const changes: Parameters<Parameters<typeof decodeBatch>[1]>[0][] = [];
  decodeBatch(batch, (c) => changes.push(c));
  t.is(changes.length, 4);
  t.like(changes[0], { agentId: "plain", sequenceNum: 7, mask: 0, lastSeenMs: 1_796_000_000_000 });
  t.like(changes[1], { agentId: "line\nbreak", mask: 0 });
  t.like(changes[1], { sequenceNum: undefined });
  t.deepEqual(changes[2]?.statistics, { cpu: 1, memory: "2", extras: {} });
  t.is(changes[2]?.heartbeat, undefined, "a part not in the mask is not sent");
  t.is(changes[3]?.whole?.heartbeat?.agentId, "line\nbreak");
});

test("a new worker takes the whole fleet from the primary; the primary asks a worker again for an agent it lacks", async (t) => {
  const clock = { now: 1_796_000_000_000 };
  const { primary, fleet, replicas } = server(1, clock);
  const [a] = replicas as [ReplicaRegistry];
  for (let i = 0; i < 250; i++) a.heartbeat(beat(`agent-${i}`, { tags: { named: { n: String(i % 7) } } }));
  a.alarm("agent-3", "x", "y");
  await settle();
  const fresh = new ReplicaRegistry({ ttlMs: 60_000, now: () => clock.now, send: () => undefined });
  let batches = 0;
  fleet.wholeBatches(100, (b) => {
    batches++;
    t.deepEqual(fresh.absorb(b), []);
  });
  t.is(batches, 3);
  t.deepEqual(await all(fresh), await all(primary));
  await fresh.close();
});

test("a process lacking an agent named in a batch gets it whole: the primary from the worker, a worker from the primary", async (t) => {
  const clock = { now: 1_796_000_000_000 };
  // The primary forgets agents sooner than the workers, so it lacks one they still hold.
  const { primary, replicas } = server(2, clock, 1000);
  const [a, b] = replicas as [ReplicaRegistry, ReplicaRegistry];
  a.heartbeat(beat("z"));
  a.alarm("z", "type", "detail");
  await settle();
  clock.now += 2000;
  primary.sweep();
  t.is(primary.findLocal("z"), undefined);
  a.heartbeat(beat("z"));
  a.flush();
  await settle();
  t.deepEqual(primary.findLocal("z")?.alarms.map((x) => x.type), ["type"], "sent again whole");
  t.is(primary.findLocal("z")?.lastSeenMs, clock.now);
  // A worker that lost it takes the primary's copy.
  const c = new ReplicaRegistry({ ttlMs: 60_000, now: () => clock.now, send: () => undefined });
  t.deepEqual(c.absorb(encodeBatch([[primary.findLocal("z") as AgentRecord, 0]])), ["z"]);
  t.is(b.get("z")?.agentId, "z");
  await c.close();
});

test("the primary passes on at once what agents' requests read, and holds the rest coalesced: the latest times and statistics per agent, every alarm (up to 100 per agent)", (t) => {
  const deferred = new DeferredChanges();
  const reg = new MemoryRegistry({ ttlMs: 0, now: () => 1_796_000_000_000 });
  reg.heartbeat(beat("a"));
  reg.heartbeat(beat("b"));
  reg.statistics("b", { cpu: 1, memory: "1", extras: {} });
  const a = reg.findLocal("a") as AgentRecord;
  const b = reg.findLocal("b") as AgentRecord;
  const now = deferred.take(encodeBatch([[a, Part.H], [b, 0], [b, Part.S]], [["b", "t", "first", 1]]));
  t.deepEqual(now?.records.map((r) => r[0]), ["a"], "a's heartbeat changed: at once");
  t.is(deferred.take(encodeBatch([[b, 0]], Array.from({ length: 120 }, (_, k) => ["b", "t", `d${k}`, 2] as const))), undefined, "nothing the agent path reads");
  const drained = deferred.drain();
  t.regex(drained?.times ?? "", /^\d{36}\x1fb\n$/, "b's times once: the latest");
  t.deepEqual(drained?.records.map((r) => [r[0], r[3]]), [["b", Part.S]]);
  t.is(drained?.alarms.length, 100);
  t.is(drained?.alarms[99]?.[2], "d119", "the newest kept");
  t.is(deferred.drain(), undefined, "drained");
});

test("an alarm reaches the other processes as itself, appended to their list", async (t) => {
  const clock = { now: 1_796_000_000_000 };
  const { primary, fleet, replicas, sent } = server(2, clock);
  const [a, b] = replicas as [ReplicaRegistry, ReplicaRegistry];
  a.heartbeat(beat("x"));
  a.alarm("x", "FIRST", "raised with the first heartbeat: in the whole record, not twice");
  await settle();
  for (let k = 0; k < 3; k++) a.alarm("x", "CONFIG", `failure ${k}`);
  b.alarm("x", "CONFIG", "from b");
  await fleet.list();
  t.true(sent.every((batch) => batch.records.every((r) => r[9] === null || r[4] === 1)), "no batch carried the whole alarm list");
  const expected = ["raised with the first heartbeat: in the whole record, not twice", "failure 0", "failure 1", "failure 2", "from b"];
  t.deepEqual(primary.findLocal("x")?.alarms.map((x) => x.detail), expected);
  // B raised its own before A's reached it: the same alarms, in the order each heard them.
  t.deepEqual(b.get("x")?.alarms.map((x) => x.detail).sort(), [...expected].sort());
});
