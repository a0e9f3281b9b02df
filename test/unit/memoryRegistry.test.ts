import test from "ava";
import { Part } from "../../src/agents/agentCodec.ts";
import { MemoryRegistry } from "../../src/agents/memoryRegistry.ts";
import type { AgentRecord, Heartbeat } from "../../src/domain/agent.ts";

// Fresh objects and strings each time, as a decoder makes them.
const beat = (id: string, over: Partial<Heartbeat> = {}): Heartbeat => ({
  agentId: `${id}`, protocol: "v2", attributes: { agentType: "LoongCollector", version: "3.0.5", ip: "10.0.0.1", hostname: "h", extras: {} },
  tags: { named: { env: "prod", app: "a" } }, runningStatus: `running`, startupTime: 1, capabilities: 3, sequenceNum: 1, ...over,
});

test("a heartbeat that repeats the last one keeps its object; only the times and the sequence number move", (t) => {
  let now = 1_800_000_000_000;
  const changes: [string, number, boolean][] = [];
  const r = new MemoryRegistry({ now: () => now, onChange: (rec, parts, first) => changes.push([rec.agentId, parts, first]) });
  t.is(r.heartbeat(beat("a")), undefined);
  const first = (r.get("a") as AgentRecord).heartbeat;
  now += 1500;
  const previous = r.heartbeat(beat("a", { sequenceNum: 2 }));
  const rec = r.get("a") as AgentRecord;
  t.is(previous, first);
  t.is(rec.heartbeat, first);
  t.is(rec.sequenceNum, 2);
  t.is(rec.lastSeenMs, now);
  t.is(rec.latestHeartbeatTime, Math.floor(now / 1000));
  t.is(rec.heartbeat?.sequenceNum, undefined);
  r.heartbeat(beat("a", { sequenceNum: 3, runningStatus: "stopping" }));
  t.not(rec.heartbeat, first);
  t.is(rec.heartbeat?.runningStatus, "stopping");
  r.heartbeat(beat("a", { sequenceNum: 4, runningStatus: "stopping", tags: { named: { env: "dev", app: "a" } } }));
  t.deepEqual(rec.heartbeat?.tags.named, { env: "dev", app: "a" });
  t.deepEqual(changes, [["a", Part.H, true], ["a", 0, false], ["a", Part.H, false], ["a", Part.H, false]]);
});

test("an agent swept after its TTL and heard from again is a new record, whatever was looked up last", (t) => {
  let now = 1_800_000_000_000;
  const r = new MemoryRegistry({ ttlMs: 1000, now: () => now });
  r.heartbeat(beat("a"));
  r.reportConfigs("a", "pipeline", [{ name: "c", version: 1, status: 2, message: "" }]);
  const old = r.get("a") as AgentRecord;
  now += 5000;
  t.is(r.get("a"), undefined);
  t.is(r.sweep(), 1);
  t.is(r.size, 0);
  t.is(r.heartbeat(beat("a")), undefined);
  const fresh = r.get("a") as AgentRecord;
  t.not(fresh, old);
  t.deepEqual(fresh.pipelines, []);
  t.is(r.size, 1);
  t.deepEqual(r.listLocal().map((x) => x), [fresh]);
});

test("calls for several agents in turn each reach their own record", (t) => {
  const r = new MemoryRegistry();
  for (const id of ["a", "b", "a", "c", "b"]) r.heartbeat(beat(id, { attributes: { agentType: "t", version: id, ip: "", hostname: "", extras: {} } }));
  r.reportConfigs("b", "pipeline", [{ name: "x", version: 7, status: 0, message: "" }]);
  t.deepEqual(["a", "b", "c"].map((id) => [r.get(id)?.heartbeat?.attributes.version, r.get(id)?.pipelines.length]), [["a", 0], ["b", 1], ["c", 0]]);
});
