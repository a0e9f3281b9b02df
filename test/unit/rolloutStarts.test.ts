// Internals (test/unit): what a newly served commit does to the rollouts (src/rollouts/rolloutStarts.ts),
// and how the overlay changes the applied lists an agent is served (RepoState.applied with an instance id).
import test from "ava";
import { tagsKey } from "../../src/domain/matching.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import { rolloutBucket } from "../../src/domain/rolloutBucket.ts";
import { RolloutOverlay } from "../../src/domain/rolloutOverlay.ts";
import type { RolloutPolicy } from "../../src/domain/rolloutPolicy.ts";
import type { ConfigRecord } from "../../src/domain/types.ts";
import { rolloutsAfterCommit } from "../../src/rollouts/rolloutStarts.ts";
import type { RolloutRecord } from "../../src/rollouts/rolloutRecord.ts";

const policy: RolloutPolicy = { waves: [{ kind: "percent", text: "50%", basisPoints: 5000 }, { kind: "percent", text: "100%", basisPoints: 10000 }], bakeMs: 1000, applyTimeoutMs: 1000, halt: { failed: 1 }, onHalt: "revert", source: "rollout.yaml" };
const cfg = (content: string, version: number, extra: Partial<ConfigRecord> = {}): ConfigRecord => ({ name: "app", agentType: "", description: "", content, version, commit: `c${version}`, ...extra });
const group = { name: "default", description: "", tags: [], configs: ["app", "new"] };
const at = (version: number, configs: ConfigRecord[], withPolicy = true) => new RepoState(`c${version}`, version, 0, configs, [group], [], withPolicy ? policy : undefined);
const NOW = 1_700_000_000_000;
const after = (m: Map<string, RolloutRecord>, state: RepoState, previous: RepoState) => rolloutsAfterCommit(m, state, previous, NOW);

test("a content change under a policy starts a rollout from the version everyone had; without a policy, a description-only change, or the first commit: none", (t) => {
  const v1 = at(1, [cfg("a: 1", 1)]);
  const started = after(new Map(), at(2, [cfg("a: 2", 2)]), v1).get("pipeline:app");
  t.is(started?.from?.version, 1);
  t.deepEqual(started?.to, { version: 2, commit: "c2" });
  t.is(started?.progress.wave, 1);
  t.is(after(new Map(), at(2, [cfg("a: 2", 2)], false), v1).size, 0);
  t.is(after(new Map(), at(2, [cfg("a: 1", 2, { description: "d" })]), v1).size, 0);
  t.is(after(new Map(), at(1, [cfg("a: 1", 1)]), new RepoState("", 0, 0, [], [])).size, 0);
});

test("a newer commit supersedes from the last completed version; its content put back pins it; a removal is staged; a removed policy ends it", (t) => {
  const v1 = at(1, [cfg("a: 1", 1)]);
  const v2 = at(2, [cfg("a: 2", 2)]);
  const m2 = after(new Map(), v2, v1);
  const v3 = at(3, [cfg("a: 3", 3)]);
  const m3 = after(m2, v3, v2);
  t.is(m3.get("pipeline:app")?.from?.version, 1, "against the version that completed, not the superseded one");
  t.is(m3.get("pipeline:app")?.to.version, 3);
  t.true(m3.get("pipeline:app")?.history.some((e) => e.action === "superseded"));
  const back = after(m3, at(4, [cfg("a: 1", 4)]), v3).get("pipeline:app");
  t.is(back?.mode, "pinned");
  t.is(back?.progress.status, "reverted");
  t.is(back?.revertCommit, "c4");
  const removed = after(m3, at(4, []), v3).get("pipeline:app");
  t.is(removed?.to.version, -1, "a removal follows the waves too");
  t.is(removed?.from?.version, 1);
  t.deepEqual(removed?.fromGroups?.map((g) => g.name), ["default"]);
  t.is(after(m3, at(4, [], false), at(3, [cfg("a: 3", 3)], false)).get("pipeline:app")?.progress.status, "completed", "without a policy a removal is not staged");
  t.is(after(m3, at(4, [cfg("a: 3", 3)], false), v3).get("pipeline:app")?.progress.status, "completed");
  // Another commit that leaves the config as it is changes nothing.
  t.is(after(m3, at(4, [cfg("a: 3", 3)]), v3).get("pipeline:app"), m3.get("pipeline:app"));
});

test("a rollback (its version's commit has a Rollback trailer) is never staged: it ends a rollout in progress and starts none; a new config removed again is reverted", (t) => {
  const v2 = at(2, [cfg("a: 2", 2)]);
  const v3 = at(3, [cfg("a: 3", 3)]);
  const m3 = after(new Map(), v3, v2);
  t.is(m3.get("pipeline:app")?.from?.version, 2);
  // Back to version 1's content, older than version 2 (the last completed one).
  const rolled = after(m3, at(4, [cfg("a: 1", 4, { rollback: true })]), v3).get("pipeline:app");
  t.is(rolled?.progress.status, "completed");
  t.is(rolled?.mode, "waves");
  t.regex(rolled?.history.at(-1)?.detail ?? "", /^rolled back by commit c4: version 4 reaches every agent at once/);
  t.is(after(new Map(), at(4, [cfg("a: 1", 4, { rollback: true })]), v3).size, 0, "none starts");
  // The same content without the trailer is a change like any other: staged.
  t.is(after(m3, at(4, [cfg("a: 1", 4)]), v3).get("pipeline:app")?.progress.status, "progressing");
  // Only the commits being served count: a flag the previous commit already had ends nothing.
  const kept = cfg("a: 1", 4, { rollback: true });
  t.not(after(m3, at(5, [kept]), at(4, [kept])).get("pipeline:app")?.progress.status, "completed");

  const fresh = { ...cfg("n: 1", 2), name: "new" };
  const mNew = after(new Map(), at(2, [cfg("a: 1", 1), fresh]), at(1, [cfg("a: 1", 1)]));
  t.is(mNew.get("pipeline:new")?.from, undefined);
  const gone = after(mNew, at(3, [cfg("a: 1", 1)]), at(2, [cfg("a: 1", 1), fresh])).get("pipeline:new");
  t.is(gone?.progress.status, "reverted");
  t.is(gone?.mode, "pinned");
  t.is(gone?.revertCommit, "c3");
});

test("the overlay serves agents outside the current waves the previous record (content and version), a new config to nobody outside, and pinned to everyone", (t) => {
  const state = at(2, [cfg("a: 2", 2), { ...cfg("n: 1", 2), name: "new" }]);
  const from = cfg("a: 1", 1);
  const ids = Array.from({ length: 40 }, (_, i) => `agent-${i}`);
  const inside = ids.filter((id) => rolloutBucket(id, "app") < 5000);
  const outside = ids.filter((id) => rolloutBucket(id, "app") >= 5000);
  const newInside = (id: string) => rolloutBucket(id, "new") < 5000;
  t.true(inside.length > 0 && outside.length > 0);
  const served: string[] = [];
  state.setRollouts(new RolloutOverlay([
    { kind: "pipeline", name: "app", mode: "waves", policy, wave: 1, cuts: [], from },
    { kind: "pipeline", name: "new", mode: "waves", policy, wave: 1, cuts: [], from: undefined },
  ], (_k, name, id) => served.push(`${name}:${id}`)));
  const tags = { named: {} };
  const list = (id: string) => state.applied(tagsKey(tags), tags, undefined, id).configs;
  for (const id of inside) t.is(list(id).find((c) => c.name === "app")?.version, 2);
  for (const id of outside) t.deepEqual(list(id).find((c) => c.name === "app"), from);
  for (const id of ids) t.is(list(id).some((c) => c.name === "new"), newInside(id));
  t.is(list(ids[0]!), list(ids[0]!), "the same list object for the same agent: repeat answers stay valid");
  t.deepEqual([...new Set(served)].sort(), [...inside.map((id) => `app:${id}`), ...ids.filter(newInside).map((id) => `new:${id}`)].sort());
  t.is(served.length, new Set(served).size, "each agent is noted once per config");
  // Listings (no agent named) see the commit as it is.
  t.is(state.applied(tagsKey(tags), tags).configs.find((c) => c.name === "app")?.version, 2);
  const before = list(inside[0]!);
  state.setRollouts(new RolloutOverlay([{ kind: "pipeline", name: "app", mode: "pinned", policy, wave: 0, cuts: [], from }]));
  t.not(list(inside[0]!), before, "a new overlay ends the old lists");
  for (const id of ids) t.deepEqual(list(id).find((c) => c.name === "app"), from);
  t.is(state.recordAt("pipeline", "app", 1), from);
  t.is(state.recordAt("pipeline", "app", 2)?.content, "a: 2");
});
