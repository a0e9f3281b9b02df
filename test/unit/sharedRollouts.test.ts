// Unit tests of mergeShared (src/rollouts/sharedRollouts.ts): what a replica serves when the
// replica that decides the rollouts shares its records, including while the two serve different
// commits. A pure function over plain records; the black-box behaviour across real replicas is
// test/rolloutReplicas.test.ts.
import test from "ava";
import { RepoState } from "../../src/domain/repoState.ts";
import { startRollout } from "../../src/domain/rolloutPlan.ts";
import type { ConfigRecord } from "../../src/domain/types.ts";
import { keyOf, type RolloutRecord } from "../../src/rollouts/rolloutRecord.ts";
import { mergeShared, revived } from "../../src/rollouts/sharedRollouts.ts";

const config = (name: string, version: number, commit: string): ConfigRecord => ({ name, version, commit, agentType: "t", description: "", content: `v: ${version}\n` });
const stateAt = (commit: string, ...configs: ConfigRecord[]) => new RepoState(commit, 3, 0, configs, []);

function rollout(name: string, fromVersion: number, toVersion: number, toCommit: string, wave = 1): RolloutRecord {
  return {
    kind: "pipeline",
    name,
    from: config(name, fromVersion, `c${fromVersion}`),
    to: { version: toVersion, commit: toCommit },
    mode: "waves",
    progress: { ...startRollout(1000), wave },
    cuts: [],
    received: {},
    history: [],
  };
}
const mapOf = (...rs: RolloutRecord[]) => new Map(rs.map((r) => [keyOf(r.kind, r.name), r]));

test("at the same commit the shared records replace this replica's own, whole", (t) => {
  const state = stateAt("c2", config("app", 2, "c2"), config("web", 1, "c1"));
  const own = mapOf(rollout("app", 1, 2, "c2", 1), rollout("old", 1, 2, "cX"));
  const shared = rollout("app", 1, 2, "c2", 2);
  const next = mergeShared(own, { commit: "c2", rollouts: [shared] }, state);
  t.is(next.get("pipeline:app"), shared);
  t.false(next.has("pipeline:old"), "a record the deciding replica no longer has is gone");
});

test("a replica ahead keeps its own record of the change only it serves yet (from wave 1), and takes the others", (t) => {
  // This replica serves c3 (app version 3); the deciding one still serves c2 and shares app's rollout to 2 at wave 2.
  const state = stateAt("c3", config("app", 3, "c3"), config("web", 2, "c2"));
  const mine = rollout("app", 1, 3, "c3", 1);
  const own = mapOf(mine, rollout("web", 1, 2, "c2", 1));
  const sharedWeb = rollout("web", 1, 2, "c2", 2);
  const next = mergeShared(own, { commit: "c2", rollouts: [rollout("app", 1, 2, "c2", 2), sharedWeb] }, state);
  t.is(next.get("pipeline:app"), mine, "app stays at this replica's wave 1 of version 3");
  t.is(next.get("pipeline:web"), sharedWeb, "web, the same change on both, follows the deciding replica");
});

test("a replica behind keeps what its snapshot serves; a stale record of its own (a restart) gives way", (t) => {
  // This replica serves c1 (app version 1, web version 2); the deciding one serves c2 (app version 2).
  const state = stateAt("c1", config("app", 1, "c1"), config("web", 2, "c0"));
  const completed: RolloutRecord = { ...rollout("app", 0, 1, "c1"), progress: { ...startRollout(10), status: "completed", endedAt: 20 } };
  const stale = rollout("web", 1, 5, "cOld", 1);
  const own = mapOf(completed, stale);
  const sharedWeb = rollout("web", 1, 2, "c0", 2);
  const next = mergeShared(own, { commit: "c2", rollouts: [rollout("app", 1, 2, "c2", 1), sharedWeb] }, state);
  t.is(next.get("pipeline:app"), completed, "app: the shared rollout is about a version this replica does not serve yet");
  t.is(next.get("pipeline:web"), sharedWeb, "web: this replica's own record is about no version it serves");
});

test("a removal is about the snapshot when the config is gone from it", (t) => {
  const state = stateAt("c3");
  const removal: RolloutRecord = { ...rollout("app", 2, -1, "c3"), fromGroups: [] };
  const next = mergeShared(mapOf(removal), { commit: "c2", rollouts: [rollout("app", 1, 2, "c2", 2)] }, state);
  t.is(next.get("pipeline:app"), removal);
});

test("records read back from JSON get their missing count cuts back as undefined", (t) => {
  const r = { ...rollout("app", 1, 2, "c2"), cuts: [{ bucket: 3, instanceId: "a" }, undefined] };
  const [back] = revived(JSON.parse(JSON.stringify([r])) as RolloutRecord[]);
  t.deepEqual(back?.cuts, [{ bucket: 3, instanceId: "a" }, undefined]);
});
