// Black-box tests of group-binding changes rolled out by waves: the real server on a real git
// repository, two fleets (tags env=a and env=b) of agents speaking v2, v1 and alpha as the real ones
// do, cycling in rounds. Group a applies config app throughout; the commits change group b's binding.
// Waves are checked against the documented bucket (FNV-1a of `instance id NUL config name` mod 10,000).
// One test at a time: each drives over a hundred agents.
import test, { type ExecutionContext } from "ava";
import { Fleet, type AnyAgent } from "./helpers/fleet.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { bucket, rolloutOf, type RolloutJson } from "./helpers/rollouts.ts";
import { waitFor, withServer } from "./helpers/server.ts";

const id = (a: AnyAgent) => a.agent.instanceId;

/** A server whose group a applies app to fleet a, and group b (fleet b) applies `bBinds`. */
async function setup(t: ExecutionContext, policy: string, bBinds: string[], content = "a: 1\n") {
  const repo = repoWith("cs-rollout-bind-", {
    "rollout.yaml": policy,
    "configs/app.yaml": configYaml("app", content),
    "agent_groups/a.yaml": groupYaml("a", ["app"], [["env", "a"]]),
    "agent_groups/b.yaml": groupYaml("b", bBinds, [["env", "b"]]),
  });
  const server = await withServer(t, { repo });
  const a = new Fleet(server.url, 20, 5, 5, { env: "a" }, "a-");
  const b = new Fleet(server.url, 60, 10, 10, { env: "b" }, "b-");
  const groupA = [...a.agents];
  const fleet = a.join(b);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => groupA.every((x) => fleet.held(x, "app") > 0));
  const v1 = fleet.held(groupA[0]!, "app");
  await fleet.round("app");
  t.true(b.agents.every((x) => fleet.held(x, "app") === (bBinds.includes("app") ? v1 : 0)));
  fleet.deliveries.clear();
  return { repo, server, fleet, groupA, groupB: b.agents, v1 };
}

/** When each wave started, from the rollout's history. */
const waveStarts = (r: RolloutJson) => [Date.parse(r.startedAt), ...r.history.filter((e) => e.action === "advanced").map((e) => Date.parse(e.at))];

test.serial("binding a config to a second group (waves [5, 100%]): only 5 agents of that group get it in wave 1, the rest at wave 2, and the first group's agents see no change", async (t) => {
  const { repo, server, fleet, groupA, groupB, v1 } = await setup(t, "waves: [5, 100%]\nbake: 2s\napplyTimeout: 30s\nonHalt: pause\n", []);
  commitFiles(repo, { "agent_groups/b.yaml": groupYaml("b", ["app"], [["env", "b"]]) });
  const started = await waitFor(() => rolloutOf(server.url));
  t.is(started.from?.version, v1);
  t.is(started.to.version, v1, "the same version, bound to more agents");
  t.regex(started.history.find((e) => e.action === "started")?.detail ?? "", /groups a to a, b/);
  // Wave 1: the 5 agents of group b first in bucket order (group a's agents are not targeted: their answer does not change).
  const order = [...groupB].sort((x, y) => bucket(id(x), "app") - bucket(id(y), "app") || (id(x) < id(y) ? -1 : 1));
  const wave1 = new Set(order.slice(0, 5).map(id));
  await fleet.until("app", () => groupB.every((x) => !wave1.has(id(x)) || fleet.held(x, "app") === v1));

  await fleet.until("app", async () => (await rolloutOf(server.url))?.state === "completed" && groupB.every((x) => fleet.held(x, "app") === v1));
  const done = (await rolloutOf(server.url)) as RolloutJson;
  t.deepEqual(done.waves.map((w) => w.targeted), [5, groupB.length - 5], "only group b's agents are targeted");
  t.deepEqual(done.waves.map((w) => w.applied), [5, groupB.length - 5]);
  const starts = waveStarts(done);
  t.is(starts.length, 2);
  for (const x of groupB) {
    const wave = wave1.has(id(x)) ? 1 : 2;
    const got = fleet.firstHeld.get(`${id(x)}\0app\0${v1}`) as number;
    t.true(got >= starts[wave - 1]!, `${id(x)} (wave ${wave}) got app at ${got}, before its wave started at ${starts[wave - 1]}`);
    t.deepEqual(fleet.versionsSeen(id(x), "app"), [0, v1]);
  }
  for (const x of groupA) {
    t.is(fleet.deliveries.get(id(x)) ?? 0, 0, `${id(x)} of group a was sent nothing`);
    t.deepEqual(fleet.versionsSeen(id(x), "app"), [v1]);
  }
});

test.serial("removing a group's binding follows the waves: agents of that group outside them keep the config until their wave; the other group's agents see no change", async (t) => {
  const { repo, server, fleet, groupA, groupB, v1 } = await setup(t, "waves: [20%, 100%]\nbake: 1s\napplyTimeout: 30s\nonHalt: pause\n", ["app"]);
  const inWave1 = (x: AnyAgent) => bucket(id(x), "app") < 2000;
  t.true(groupB.some(inWave1) && !groupB.every(inWave1));
  commitFiles(repo, { "agent_groups/b.yaml": groupYaml("b", [], [["env", "b"]]) });
  await fleet.until("app", () => groupB.every((x) => !inWave1(x) || fleet.held(x, "app") === 0));
  const r = (await rolloutOf(server.url)) as RolloutJson;
  t.is(r.to.version, v1);
  t.is(r.wave, 1);
  t.true(groupB.every((x) => inWave1(x) || fleet.held(x, "app") === v1), "group b's agents outside wave 1 keep the config");

  await fleet.until("app", async () => (await rolloutOf(server.url))?.state === "completed" && groupB.every((x) => fleet.held(x, "app") === 0));
  const done = (await rolloutOf(server.url)) as RolloutJson;
  t.deepEqual(done.waves.map((w) => w.targeted), [groupB.filter(inWave1).length, groupB.filter((x) => !inWave1(x)).length], "only group b's agents are targeted");
  const starts = waveStarts(done);
  for (const x of groupB) {
    const wave = inWave1(x) ? 1 : 2;
    t.true((fleet.firstHeld.get(`${id(x)}\0app\u00000`) as number) >= starts[wave - 1]!, `${id(x)} (wave ${wave}) lost app before its wave`);
    t.deepEqual(fleet.versionsSeen(id(x), "app"), [v1, 0]);
  }
  for (const x of groupA) t.is(fleet.deliveries.get(id(x)) ?? 0, 0, `${id(x)} of group a was sent nothing`);
});

test.serial("a binding rollout halted with onHalt: revert: a revert commit restores the group's binding, wave-1 agents lose the config again, and agents that never got it receive nothing", async (t) => {
  // app's content makes the failing agents report FAILED; group a's agents load it fine.
  const { repo, server, fleet, groupA, groupB, v1 } = await setup(t, "waves: [20%, 100%]\nbake: 1s\napplyTimeout: 30s\nonHalt: revert\n", [], "bad: true\n");
  const wave1 = groupB.filter((x) => bucket(id(x), "app") < 2000);
  const failing = wave1.filter((x) => x.kind === "v2");
  t.true(failing.length > 0 && wave1.length < groupB.length);
  for (const x of failing) fleet.failing.set(id(x), "");
  const bound = commitFiles(repo, { "agent_groups/b.yaml": `${groupYaml("b", ["app"], [["env", "b"]])}# bound by a person\n` });

  await fleet.until("app", async () => (await rolloutOf(server.url))?.state === "reverted" && wave1.every((x) => fleet.held(x, "app") === 0));
  const r = (await rolloutOf(server.url)) as RolloutJson;
  t.is(r.wave, 1);
  t.false(r.history.some((e) => e.action === "advanced"), "halted before wave 2");
  // The halt fires with the first FAILED reports (halt: {failed: 1}): some of the failing agents, no other.
  const failed = r.failures.flatMap((f) => f.agents);
  t.true(failed.length > 0 && failed.every((x) => failing.some((y) => id(y) === x)), failed.join(", "));
  // The revert commit: by the server, on the branch, group b's file without app (the person's comment kept), app's file untouched.
  t.truthy(r.revertCommit);
  t.is(git(repo, "rev-parse", "main").trim(), r.revertCommit as string);
  const log = git(repo, "log", "-1", "--format=%an%n%B", "main");
  t.notRegex(log.split("\n")[0] as string, /person/i);
  t.regex(log, /Revert the groups of config app: rollout halted at wave 1/);
  t.regex(log, /agent_groups\/b\.yaml: no longer applies app/);
  for (const x of failed) t.true(log.includes(x), `the message names ${x}`);
  t.deepEqual(git(repo, "diff", "--name-only", bound, "main").trim().split("\n"), ["agent_groups/b.yaml"]);
  const file = git(repo, "show", "main:agent_groups/b.yaml");
  t.regex(file, /^configs: \[\]$/m);
  t.regex(file, /# bound by a person/);

  await fleet.round("app");
  for (const x of wave1) {
    t.is(fleet.deliveries.get(id(x)), 2, `${id(x)}: the config, then its deletion`);
    t.is(fleet.held(x, "app"), 0);
  }
  for (const x of groupB) if (!wave1.includes(x)) t.deepEqual(fleet.versionsSeen(id(x), "app"), [0], `${id(x)} never received app`);
  for (const x of [...groupA, ...groupB.filter((y) => !wave1.includes(y))]) t.is(fleet.deliveries.get(id(x)) ?? 0, 0, `${id(x)} was sent nothing`);
  t.true(groupA.every((x) => fleet.held(x, "app") === v1));
});
