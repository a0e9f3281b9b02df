// Internals (test/unit): how a commit that changes a config's groups (bindings or selectors) starts a
// rollout (src/rollouts/rolloutStarts.ts), how the overlay serves it by the groups of before
// (src/domain/rolloutOverlay.ts), and the groups a revert writes back (src/domain/groupBindings.ts).
import test from "ava";
import { bindingKey, restoredGroups } from "../../src/domain/groupBindings.ts";
import { tagsKey } from "../../src/domain/matching.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import { rolloutBucket } from "../../src/domain/rolloutBucket.ts";
import { RolloutOverlay } from "../../src/domain/rolloutOverlay.ts";
import type { RolloutPolicy } from "../../src/domain/rolloutPolicy.ts";
import type { ConfigRecord, GroupSpec } from "../../src/domain/types.ts";
import { rolloutsAfterCommit } from "../../src/rollouts/rolloutStarts.ts";
import type { RolloutRecord } from "../../src/rollouts/rolloutRecord.ts";

const policy: RolloutPolicy = { waves: [{ kind: "percent", text: "50%", basisPoints: 5000 }, { kind: "percent", text: "100%", basisPoints: 10000 }], bakeMs: 1000, applyTimeoutMs: 1000, halt: { failed: 1 }, onHalt: "revert", source: "rollout.yaml" };
const app = (content = "a: 1", version = 1): ConfigRecord => ({ name: "app", agentType: "", description: "", content, version, commit: `c${version}` });
const other: ConfigRecord = { name: "other", agentType: "", description: "", content: "o: 1", version: 1, commit: "c1" };
const grp = (name: string, configs: string[], env?: string): GroupSpec => ({ name, description: "", tags: env ? [{ name: "env", value: env }] : [], configs });
const at = (commit: number, groups: readonly GroupSpec[], configs: ConfigRecord[] = [app(), other], withPolicy = true) => new RepoState(`c${commit}`, commit, 0, configs, groups, [], withPolicy ? policy : undefined);
const NOW = 1_700_000_000_000;
const after = (m: Map<string, RolloutRecord>, state: RepoState, previous: RepoState) => rolloutsAfterCommit(m, state, previous, NOW);

const v1 = at(1, [grp("default", ["app", "other"]), grp("web", ["other"], "web")]);

test("binding a config to another group, unbinding it, or changing the selectors of a group applying it starts a rollout from the groups of before", (t) => {
  const bound = after(new Map(), at(2, [grp("default", ["app", "other"]), grp("web", ["app", "other"], "web")]), v1).get("pipeline:app");
  t.is(bound?.mode, "waves");
  t.is(bound?.from?.version, 1);
  t.is(bound?.to.version, 1, "the content did not change: the same version, to more agents");
  t.deepEqual(bound?.fromGroups?.map((g) => g.name), ["default"]);
  t.regex(bound?.history[0]?.detail ?? "", /groups default to default, web/);
  const withWeb = at(1, [grp("default", ["other"]), grp("web", ["app", "other"], "web")]);
  const unbound = after(new Map(), at(2, [grp("default", ["other"]), grp("web", ["other"], "web")]), withWeb).get("pipeline:app");
  t.deepEqual(unbound?.fromGroups?.map((g) => g.name), ["web"]);
  const retagged = after(new Map(), at(2, [grp("default", ["other"]), grp("web", ["app", "other"], "www")]), withWeb).get("pipeline:app");
  t.deepEqual(retagged?.fromGroups?.[0]?.tags, [{ name: "env", value: "web" }], "selectors of before");
  // Another config's binding, or no policy: nothing for app.
  t.is(after(new Map(), at(2, [grp("default", ["app", "other"]), grp("web", [], "web")]), v1).get("pipeline:app"), undefined);
  t.is(after(new Map(), at(2, [grp("default", ["app", "other"]), grp("web", ["app", "other"], "web")], undefined, false), at(1, v1.sortedGroups, undefined, false)).size, 0);
});

test("a newer binding change supersedes from the groups of before; putting the groups back pins it; a content change keeps the groups of before", (t) => {
  const v2 = at(2, [grp("default", ["app", "other"]), grp("web", ["app", "other"], "web")]);
  const m2 = after(new Map(), v2, v1);
  const v3 = at(3, [grp("default", ["other"]), grp("web", ["app", "other"], "web")]);
  const m3 = after(m2, v3, v2);
  const r3 = m3.get("pipeline:app") as RolloutRecord;
  t.deepEqual(r3.fromGroups?.map((g) => g.name), ["default"], "against the groups that last reached everyone");
  t.true(r3.history.some((e) => e.action === "superseded" && /a change of its groups/.test(e.detail ?? "")));
  const v4 = at(4, [grp("default", ["other"]), grp("web", ["app", "other"], "web")], [app("a: 2", 4), other]);
  const r4 = after(m3, v4, v3).get("pipeline:app") as RolloutRecord;
  t.is(r4.to.version, 4);
  t.deepEqual(r4.fromGroups?.map((g) => g.name), ["default"]);
  // An unrelated commit changes nothing.
  t.is(after(m3, at(4, [...v3.sortedGroups, grp("extra", ["other"])]), v3).get("pipeline:app"), r3);
  const back = after(m3, at(4, v1.sortedGroups), v3).get("pipeline:app");
  t.is(back?.mode, "pinned");
  t.is(back?.progress.status, "reverted");
  t.is(back?.fromGroups, undefined);
  // A content change alone (groups as before) is not pinned by the groups being equal.
  t.is(after(m2, at(3, v2.sortedGroups, [app("a: 3", 3), other]), v2).get("pipeline:app")?.mode, "waves");
});

test("the overlay serves agents outside the waves by the groups of before: the new group's agents get nothing, the old group's keep the config and are never noted as served", (t) => {
  const state = at(2, [grp("default", ["other"]), grp("web", ["app", "other"], "web"), grp("db", ["app"], "db")]);
  const served: string[] = [];
  state.setRollouts(new RolloutOverlay([{ kind: "pipeline", name: "app", mode: "waves", policy, wave: 1, cuts: [], from: app(), fromGroups: [grp("db", ["app"], "db")] }], (_k, _n, id) => served.push(id)));
  const ids = Array.from({ length: 40 }, (_, i) => `agent-${i}`);
  const inside = (id: string) => rolloutBucket(id, "app") < 5000;
  const has = (id: string, env: string) => {
    const tags = { named: { env } };
    return state.applied(tagsKey(tags), tags, undefined, id).configs.some((c) => c.name === "app");
  };
  for (const id of ids) {
    t.is(has(id, "web"), inside(id), `${id} of the new group`);
    t.true(has(id, "db"), `${id} of the old group`);
  }
  t.true(ids.some(inside) && !ids.every(inside));
  t.deepEqual(served.sort(), ids.filter(inside).sort(), "only agents that gained it (web) were noted");
});

test("restoredGroups puts a config back into the groups of before with their selectors, takes it out of new ones, re-creates a deleted group", (t) => {
  const before = [grp("default", ["app", "other"]), grp("web", ["app"], "web"), grp("gone", ["app", "removed"], "x")];
  const now = at(2, [grp("default", ["other"]), grp("web", ["app"], "www"), grp("db", ["app", "other"], "db")]);
  const out = restoredGroups(now, "pipeline", "app", before);
  t.deepEqual(out.map((g) => [g.name, g.configs.join(","), g.tags.map((x) => x.value).join(",")]), [
    ["db", "other", "db"],
    ["default", "app,other", ""],
    ["gone", "app", "x"],
    ["web", "app", "web"],
  ]);
  t.is(bindingKey(restoredGroups(now, "pipeline", "app", before).filter((g) => g.configs.includes("app"))), bindingKey(before));
  t.deepEqual(restoredGroups(at(3, before), "pipeline", "app", before), [], "nothing to write when the groups are as before");
});

test("a halted rollout being reverted (pinned) is left as it is by a commit that changes nothing of its config", (t) => {
  const v2 = at(2, v1.sortedGroups, [app("a: 2", 2), other]);
  const started = after(new Map(), v2, v1).get("pipeline:app") as RolloutRecord;
  const halting: RolloutRecord = { ...started, mode: "pinned", progress: { ...started.progress, status: "halted", endedAt: NOW } };
  const unrelated = at(3, [...v2.sortedGroups, grp("extra", ["other"])], [app("a: 2", 2), other]);
  t.is(after(new Map([["pipeline:app", halting]]), unrelated, v2).get("pipeline:app"), halting);
});
