import test from "ava";
import { ApplyStatus, type ConfigReport } from "../../src/domain/agent.ts";
import { changesFor } from "../../src/domain/agentChanges.ts";

const rep = (name: string, version: number): ConfigReport => ({ name, version, status: ApplyStatus.APPLIED, message: "" });
const cfg = (name: string, version: number) => ({ name, version });

test("an agent that runs exactly what is applied gets nothing (and nothing is allocated)", (t) => {
  const a = changesFor([cfg("a", 3), cfg("b", 7)], [rep("a", 3), rep("b", 7)]);
  t.deepEqual(a, { updates: [], removed: [] });
  t.is(changesFor([], []) as unknown, a as unknown);
});

test("not reported, or reported at another version (higher or lower), is an update", (t) => {
  const c = changesFor([cfg("a", 3), cfg("b", 7), cfg("c", 9)], [rep("a", 2), rep("c", 10)]);
  t.deepEqual(c.updates.map((u) => u.name), ["a", "b", "c"]);
  t.deepEqual(c.removed, []);
});

test("reported but not applied is removed; an already deleted one (-1) is not", (t) => {
  const c = changesFor([cfg("b", 1)], [rep("a", 4), rep("b", 1), rep("gone", -1), rep("z", 2)]);
  t.deepEqual(c.updates, []);
  t.deepEqual(c.removed.map((r) => r.name), ["a", "z"]);
});

test("a reported deletion of a config that is applied again re-sends it", (t) => {
  t.deepEqual(changesFor([cfg("a", 5)], [rep("a", -1)]).updates.map((u) => u.name), ["a"]);
});
