import test from "ava";
import { diffConfigList, UpdateStatus } from "../../src/domain/configList.ts";
import type { ConfigRecord } from "../../src/domain/types.ts";

const rec = (name: string, version: number): ConfigRecord => ({ name, version, agentType: "", description: "", content: `${name}@${version}`, commit: `c${version}` });
const view = (applied: ConfigRecord[], reported: Record<string, number>) =>
  diffConfigList(applied, new Map(Object.entries(reported))).map((u) => [u.name, u.status, u.config?.version, u.config?.content]);

test("nothing applied, nothing reported: nothing to say", (t) => {
  t.deepEqual(view([], {}), []);
});

test("applied and not reported: NEW with the config", (t) => {
  t.deepEqual(view([rec("a", 1), rec("b", 7)], {}), [
    ["a", UpdateStatus.NEW, 1, "a@1"],
    ["b", UpdateStatus.NEW, 7, "b@7"],
  ]);
});

test("same version: SAME without the config; any other version: MODIFIED", (t) => {
  t.deepEqual(view([rec("a", 5), rec("b", 5), rec("c", 5), rec("d", 5)], { a: 5, b: 4, c: 6, d: 0 }), [
    ["a", UpdateStatus.SAME, undefined, undefined],
    ["b", UpdateStatus.MODIFIED, 5, "b@5"],
    ["c", UpdateStatus.MODIFIED, 5, "c@5"],
    ["d", UpdateStatus.MODIFIED, 5, "d@5"],
  ]);
});

test("reported and not applied: DELETED, merged into the sorted answer", (t) => {
  t.deepEqual(view([rec("b", 1), rec("d", 2)], { e: 3, c: 1, a: 9, b: 1 }), [
    ["a", UpdateStatus.DELETED, undefined, undefined],
    ["b", UpdateStatus.SAME, undefined, undefined],
    ["c", UpdateStatus.DELETED, undefined, undefined],
    ["d", UpdateStatus.NEW, 2, "d@2"],
    ["e", UpdateStatus.DELETED, undefined, undefined],
  ]);
});

test("only DELETED entries when nothing is applied any more", (t) => {
  t.deepEqual(view([], { z: 1, y: 2 }).map((u) => [u[0], u[1]]), [["y", UpdateStatus.DELETED], ["z", UpdateStatus.DELETED]]);
});

test("sorting is by code unit, as applied is given", (t) => {
  t.deepEqual(view([rec("B", 1), rec("a", 1)], { "-x": 1 }).map((u) => u[0]), ["-x", "B", "a"]);
});

test("the protocol's enum values", (t) => {
  t.deepEqual(UpdateStatus, { SAME: 0, NEW: 1, DELETED: 2, MODIFIED: 3 });
});
