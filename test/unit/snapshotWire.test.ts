import test from "ava";
import { applySnapshot, snapshotMessage } from "../../src/cluster/snapshotWire.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import type { ConfigRecord, GroupSpec } from "../../src/domain/types.ts";

const config = (name: string, version: number): ConfigRecord => ({ name, agentType: "ilogtail", description: "", content: `a: ${version}\n`, version, commit: `c${version}`, detailJson: `{"a":${version}}` });
const group = (name: string, configs: string[]): GroupSpec => ({ name, description: "", tags: [{ name: "env", value: name }], configs });
/** What agents are answered from: every map and list of the state, as plain data. */
const served = (s: RepoState) => JSON.parse(JSON.stringify({ commit: s.commit, depth: s.depth, at: s.committedAt, configs: s.sortedConfigs, instances: s.sortedInstanceConfigs, groups: s.sortedGroups, notMappings: s.notMappings }));

test("a worker builds the primary's state from the whole snapshot, then from each change alone", (t) => {
  const c1 = config("c1", 1);
  const c2 = config("c2", 2);
  const first = new RepoState("aaa", 2, 1000, [c1, c2], [group("prod", ["c1", "c2"])], [{ name: "i1", description: "", content: "x: 1\n", version: 1, commit: "c1", detailJson: '{"x":1}' }]);
  const whole = snapshotMessage(first);
  t.is(whole.base, null);
  const w1 = applySnapshot(undefined, whole) as RepoState;
  t.deepEqual(served(w1), served(first));
  // c1 changes, c2 goes, c3 comes; unchanged records (same objects in the store) are not sent.
  const second = new RepoState("bbb", 3, 2000, [config("c1", 3), config("c3", 3)], [group("prod", ["c1", "c3"])], [...first.instanceConfigs.values()]);
  const change = snapshotMessage(second, first);
  t.is(change.base, "aaa");
  t.deepEqual(change.configs.map((c) => c.name), ["c1", "c3"]);
  t.deepEqual(change.removedConfigs, ["c2"]);
  t.deepEqual(change.instances, [], "the unchanged instance config is not sent");
  const w2 = applySnapshot(w1, JSON.parse(JSON.stringify(change))) as RepoState;
  t.deepEqual(served(w2), served(second));
  t.deepEqual(w2.appliedConfigs('[["env","prod"]]', { named: { env: "prod" } }).map((c) => c.version), [3, 3]);
  t.is(applySnapshot(w1, snapshotMessage(new RepoState("ccc", 4, 3000, [], []), second)), undefined, "a change from another commit than the served one is refused");
});
