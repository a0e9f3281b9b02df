import test from "ava";
import { AgentTable } from "../../src/agents/agentTable.ts";
import { isExpired, liveSince } from "../../src/agents/expiry.ts";
import { Interner } from "../../src/agents/interning.ts";

// Unit tests (internals) of the memory registry's parts: the record table (expiry, sweep,
// listing) and the interner. test/unit/memoryRegistry.test.ts tests the registry they make up.

const hb = { agentId: "", protocol: "v2", attributes: { agentType: "t", version: "1", ip: "", hostname: "", extras: {} }, tags: { named: {} }, runningStatus: "", startupTime: 0 } as const;

test("the table lists live agents with a heartbeat in id order; the sweep drops expired ones and says which", (t) => {
  let now = 100_000;
  const table = new AgentTable(1000, () => now);
  for (const id of ["c", "a", "b", "d"]) {
    const e = table.entry(id);
    e.lastSeenMs = now;
    if (id !== "d") e.heartbeat = { ...hb, agentId: id };
  }
  t.deepEqual(table.list().map((r) => r.agentId), ["a", "b", "c"], "d has no heartbeat");
  t.is(table.find("d")?.agentId, "d", "find sees records without a heartbeat");
  t.is(table.count(), 3);
  now += 600;
  const b = table.entry("b");
  b.lastSeenMs = now;
  now += 600;
  t.deepEqual(table.list().map((r) => r.agentId), ["b"], "the others expired");
  t.is(table.find("a"), undefined);
  const swept: string[] = [];
  t.is(table.sweep((r) => swept.push(r.agentId)), 3);
  t.deepEqual(swept.sort(), ["a", "c", "d"]);
  t.is(table.size, 1);
  t.not(table.entry("a"), undefined);
  t.is(table.entry("a").lastSeenMs, 0, "a swept agent starts over");
});

test("expiry: a TTL of 0 keeps records forever; otherwise silent for longer than the TTL is expired", (t) => {
  t.false(isExpired(0, 0, 1e12));
  t.false(isExpired(1000, 500, 1500));
  t.true(isExpired(1000, 500, 1501));
  t.is(liveSince(0, 5000), -Infinity);
  t.is(liveSince(500, 5000), 4500);
});

test("the interner shares tag sets while an agent holds them and forgets them with their last holder", (t) => {
  const i = new Interner();
  const x = { tagsKey: "[]" };
  const y = { tagsKey: "[]" };
  const a = i.tags(x, undefined, { named: { env: "prod" } });
  t.is(i.tags(y, undefined, { named: { env: "prod" } }), a, "one set for both");
  t.true(Object.isFrozen(a));
  t.is(i.tags(x, a, { named: { env: "prod" } }), a, "a repeat keeps the set");
  i.release(x.tagsKey);
  const z = { tagsKey: "[]" };
  t.is(i.tags(z, undefined, { named: { env: "prod" } }), a, "still held by y: shared");
  i.release(y.tagsKey);
  i.release(z.tagsKey);
  t.not(i.tags(x, undefined, { named: { env: "prod" } }), a, "released by every holder: a new set");
});

test("the interner keeps report lists by content and a repeat keeps the old list", (t) => {
  const i = new Interner();
  const r1 = i.reports([], [{ name: "c", version: 1, status: 1, message: "" }]);
  const r2 = i.reports([], [{ name: "c", version: 1, status: 1, message: "" }]);
  t.is(r1, r2, "shared by content");
  t.is(i.reports(r1, [{ name: "c", version: 1, status: 1, message: "" }]), r1);
  t.not(i.reports(r1, [{ name: "c", version: 2, status: 1, message: "" }]), r1);
});
