// Black-box tests of rollouts served by waves: the real server on a real git repository, a fleet of
// agents speaking v2 (LoongCollector's provider, replicated), v1 and alpha, cycling in rounds.
// The tests run one at a time: each drives a few hundred agents, and they must not slow each other down.
// Waves are checked against the documented bucket (FNV-1a of `instance id NUL config name` mod 10,000).
import test, { type ExecutionContext } from "ava";
import { runCli } from "./helpers/cli.ts";
import { callJson, send } from "./helpers/client.ts";
import { Fleet } from "./helpers/fleet.ts";
import { git, tempDir } from "./helpers/git.ts";
import { bucket, rolloutOf, type RolloutJson } from "./helpers/rollouts.ts";
import { bareRemote, commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";

/** The wave of an agent for waves [2%, 20%, 100%]. */
const waveOf = (id: string, name = "app") => (bucket(id, name) < 200 ? 1 : bucket(id, name) < 2000 ? 2 : 3);

// applyTimeout is generous: on a loaded machine a round of a few hundred agents can take seconds,
// and these tests halt on FAILED reports and lost agents, never on a timeout.
const POLICY = (onHalt: "revert" | "pause", bake = "1s", applyTimeout = "30s") => `waves: [2%, 20%, 100%]\nbake: ${bake}\napplyTimeout: ${applyTimeout}\nonHalt: ${onHalt}\n`;

const rollout = rolloutOf;

function setup(t: ExecutionContext, policy: string, fleetSize: [number, number, number]) {
  const repo = repoWith("cs-rollout-serve-", { "rollout.yaml": policy, "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  t.teardown(() => undefined);
  return { repo, sizes: fleetSize };
}

test.serial("a good change reaches every agent wave by wave, never before its wave, and the API counts match what agents hold", async (t) => {
  const { repo } = setup(t, POLICY("revert", "2s"), [300, 10, 10]);
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 300, 10, 10);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  t.true(agents.every((a) => fleet.held(a, "app") === v1), "the first commit reaches everyone at once");

  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  const started = await waitFor(async () => (await rollout(server.url))?.state === "progressing" ? rollout(server.url) : undefined);
  const v2 = started.to.version;
  t.is(started.from?.version, v1);
  const inWave = (w: number) => agents.filter((a) => waveOf(a.agent.instanceId) <= w);
  // While at wave 1 (its bake gives the time to look), the counts in the API are what the agents hold.
  let observed: RolloutJson | undefined;
  await fleet.until("app", async () => {
    const holding = agents.filter((a) => fleet.held(a, "app") === v2);
    if (holding.length !== inWave(1).length) return false;
    // Between rounds no agent moves: the server's next evaluations must count exactly these.
    observed = await waitFor(async () => {
      const r = await rollout(server.url);
      return r?.wave === 1 && r.waves[0]?.applied === holding.length ? r : undefined;
    }, { timeoutMs: 1500 }).catch(() => undefined);
    return observed !== undefined || ((await rollout(server.url))?.wave ?? 1) > 1;
  });
  t.truthy(observed, "wave 1's applied count matched the agents holding the new version");
  t.true(agents.every((a) => waveOf(a.agent.instanceId) === 1 || fleet.held(a, "app") === v1));

  await fleet.until("app", async () => (await rollout(server.url))?.state === "completed" && agents.every((a) => fleet.held(a, "app") === v2));
  const done = (await rollout(server.url)) as RolloutJson;
  // Waves in order; no agent held the new version before its wave started.
  const advanced = done.history.filter((e) => e.action === "advanced");
  t.deepEqual(advanced.map((e) => e.detail?.match(/to wave (\d)/)?.[1]), ["2", "3"]);
  const waveStart = [Date.parse(done.startedAt), Date.parse(advanced[0]!.at), Date.parse(advanced[1]!.at)];
  for (const a of agents) {
    const id = a.agent.instanceId;
    const got = fleet.firstHeld.get(`${id}\0app\0${v2}`) as number;
    const w = waveOf(id);
    t.true(got >= waveStart[w - 1]!, `${id} (wave ${w}) got version ${v2} at ${got}, before its wave started at ${waveStart[w - 1]}`);
    t.deepEqual(fleet.versionsSeen(id, "app"), [v1, v2], id);
  }
  // Counts per wave match the agents' waves, and all applied.
  t.deepEqual(done.waves.map((w) => w.targeted), [1, 2, 3].map((w) => agents.filter((a) => waveOf(a.agent.instanceId) === w).length));
  t.deepEqual(done.waves.map((w) => w.applied), done.waves.map((w) => w.targeted));
});

const badChange = test.macro(async (t, message: string, expected: RegExp, withRemote: boolean) => {
  // With a remote: the server follows a bare repository a person pushes to, and pushes its revert there.
  const files = { "rollout.yaml": POLICY("revert"), "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) };
  const remote = withRemote ? bareRemote(files) : undefined;
  const repo = remote ? remote.person : setup(t, POLICY("revert"), [120, 10, 10]).repo;
  const server = await withServer(t, remote ? { repo: tempDir("cs-rollout-clone-"), remote: remote.url, syncIntervalMs: 100 } : { repo });
  const branch = remote ? remote.bare : repo;
  const fleet = new Fleet(server.url, 120, 10, 10);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  const wave1 = agents.filter((a) => waveOf(a.agent.instanceId) === 1);
  const failing = wave1.filter((a) => a.kind === "v2");
  t.true(failing.length > 0 && wave1.length < agents.length);
  for (const a of failing) fleet.failing.set(a.agent.instanceId, message);
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  fleet.deliveries.clear();

  commitFiles(repo, { "configs/app.yaml": configYaml("app", "bad: true\n") });
  if (remote) git(repo, "push", "-q", "origin", "main");
  await fleet.until("app", async () => (await rollout(server.url))?.state === "reverted");
  const r = (await rollout(server.url)) as RolloutJson;
  t.is(r.wave, 1);
  t.false(r.history.some((e) => e.action === "advanced"), "halted before wave 2");
  t.regex(r.haltReason ?? "", /halted at wave 1 of 3/);
  t.deepEqual(r.failures.flatMap((f) => f.agents).sort(), failing.map((a) => a.agent.instanceId).sort());
  t.truthy(r.revertCommit);
  // The revert commit is on the branch, by the server, with the failures in its message.
  const log = git(branch, "log", "-1", "--format=%H%n%an <%ae>%n%B", "main");
  t.is(log.split("\n")[0], r.revertCommit as string);
  t.notRegex(log.split("\n")[1] as string, /person/i, "the server's identity, not the person who committed the change");
  t.regex(log, /Revert config app to version \d+: rollout of version \d+ halted at wave 1/);
  t.regex(log, expected);
  for (const a of failing) t.true(log.includes(a.agent.instanceId), `the message names ${a.agent.instanceId}`);
  t.regex(git(branch, "show", "main:configs/app.yaml"), /a: 1/);

  // Wave-1 agents are back on the previous content; everyone else was sent nothing at all.
  await fleet.until("app", () => wave1.every((a) => fleet.held(a, "app") === v1));
  for (const a of wave1) t.is(fleet.deliveries.get(a.agent.instanceId), 2, `${a.agent.instanceId}: the bad version, then the previous one back`);
  for (const a of failing) t.is((a.agent as { pipelineFile(n: string): Record<string, unknown> }).pipelineFile("app").a, 1);
  for (const a of agents) {
    if (waveOf(a.agent.instanceId) === 1) continue;
    t.is(fleet.deliveries.get(a.agent.instanceId) ?? 0, 0, `${a.agent.instanceId} was sent nothing`);
    t.deepEqual(fleet.versionsSeen(a.agent.instanceId, "app"), [v1]);
  }
});

test.serial("a bad change (wave-1 v2 agents report FAILED with a message) halts before wave 2 and is reverted by a commit; agents outside wave 1 receive nothing", badChange, "kafka: broker 10.0.0.1:9092 unreachable", /reported FAILED: kafka: broker 10\.0\.0\.1:9092 unreachable/, false);
test.serial("a bad change whose FAILED reports carry no message (as the real provider sends) is reverted with a message naming the agents and where to look, and the revert is pushed to the remote", badChange, "", /reported FAILED without a message \(the agent gives no reason: look at the agent's own log on its host\)/, true);

test.serial("v1 and alpha agents that stop heartbeating after receiving the new version halt their wave (onHalt: pause)", async (t) => {
  const policy = "waves: [2%, 20%, 100%]\nbake: 3s\napplyTimeout: 30s\nhalt: {failed: 2}\nonHalt: pause\n";
  const { repo } = setup(t, policy, [0, 60, 60]);
  const server = await withServer(t, { repo, agentTtlMs: 1000 });
  const fleet = new Fleet(server.url, 0, 60, 60);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  const wave1 = agents.filter((a) => waveOf(a.agent.instanceId) === 1);
  t.deepEqual(wave1.map((a) => a.kind).sort(), ["alpha", "v1"]);
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");

  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  // Each wave-1 agent stops right after it got the new version (and said so in its next request).
  await fleet.until("app", async () => {
    for (const a of wave1) if (fleet.held(a, "app") !== v1) fleet.stopped.add(a.agent.instanceId);
    return (await rollout(server.url))?.state === "halted";
  });
  const r = (await rollout(server.url)) as RolloutJson;
  t.is(r.wave, 1);
  t.is(r.mode, "waves", "onHalt: pause keeps serving the new version to the agents that have it");
  t.false(r.history.some((e) => e.action === "advanced"));
  t.deepEqual(r.failures.map((f) => f.kind), ["gone"]);
  t.deepEqual(r.failures[0]?.agents, wave1.map((a) => a.agent.instanceId).sort());
  t.regex(r.failures[0]?.reason ?? "", /stopped heartbeating after receiving the new version/);
  t.is(r.revertCommit, null);
  for (const a of agents) if (waveOf(a.agent.instanceId) !== 1) t.deepEqual(fleet.versionsSeen(a.agent.instanceId, "app"), [v1]);
});

test.serial("a restart mid-rollout resumes at the same wave: no agent is sent the new version twice, none moves backwards", async (t) => {
  t.timeout(240_000);
  const { repo } = setup(t, POLICY("pause", "2s"), [120, 10, 10]);
  const first = await withServer(t, { repo });
  const fleet = new Fleet(first.url, 120, 10, 10);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  fleet.deliveries.clear();

  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  await fleet.until("app", async () => (await rollout(first.url))?.wave === 2 && agents.every((a) => waveOf(a.agent.instanceId) > 2 || fleet.held(a, "app") !== v1));
  const before = (await rollout(first.url)) as RolloutJson;
  await first.close();

  const second = await withServer(t, { repo });
  fleet.pointAt(second.url);
  const after = (await rollout(second.url)) as RolloutJson;
  t.is(after.state, "progressing");
  t.is(after.wave, 2, "the same wave after the restart");
  t.is(after.to.version, before.to.version);
  // The new process knows no agent until it heartbeats: an evaluation before any does must not
  // count the agents that received the new version as gone (and halt the rollout).
  const evaluated = await waitFor(async () => {
    const r = await rollout(second.url);
    return r && r.waves.length > 0 ? r : undefined;
  });
  t.is(evaluated.state, "progressing", JSON.stringify(evaluated.history.slice(-2)));
  // Agents outside waves 1-2 still get the previous version from the new process.
  await fleet.round("app");
  const v2 = before.to.version;
  for (const a of agents) t.is(fleet.held(a, "app"), waveOf(a.agent.instanceId) <= 2 ? v2 : v1, a.agent.instanceId);

  // A loaded machine makes rounds slow: the bound is generous, and a miss says where the rollout stood.
  await fleet.until("app", async () => (await rollout(second.url))?.state === "completed" && agents.every((a) => fleet.held(a, "app") === v2), 150_000).catch(async (e: unknown) => {
    t.log(JSON.stringify(await rollout(second.url)));
    throw e;
  });
  for (const a of agents) {
    t.is(fleet.deliveries.get(a.agent.instanceId), 1, `${a.agent.instanceId} was sent the new version once`);
    t.deepEqual(fleet.versionsSeen(a.agent.instanceId, "app"), [v1, v2]);
  }
});

test.serial("pause, resume, promote and abort through the API and the CLI do what they say and record who did them", async (t) => {
  const { repo } = setup(t, POLICY("pause"), [120, 10, 10]);
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 120, 10, 10);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  const later = agents.filter((a) => waveOf(a.agent.instanceId) > 1);
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  const post = async (path: string, who?: string) => {
    const r = await send(server.url, "POST", path, "{}", { "content-type": "application/json", ...(who ? { "x-configserver-author": who } : {}) });
    return { status: r.status, body: JSON.parse(Buffer.from(r.body).toString("utf8")) as RolloutJson & { message: string } };
  };

  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  await waitFor(async () => (await rollout(server.url))?.state === "progressing");
  const paused = await post("/api/v1/rollouts/app/pause", "Ops Person <ops@example.com>");
  t.is(paused.status, 200, JSON.stringify(paused.body));
  t.is(paused.body.state, "paused");
  t.is(paused.body.wave, 1);
  // Paused: well past the bake, nothing advances and the later waves keep the previous version.
  const pausedAt = Date.now();
  await fleet.until("app", () => Date.now() - pausedAt > 2500);
  t.is((await rollout(server.url))?.wave, 1);
  t.true(later.every((a) => fleet.held(a, "app") === v1));
  // Pausing twice is refused with a clear message.
  const again = await post("/api/v1/rollouts/app/pause");
  t.is(again.status, 400);
  t.regex(again.body.message, /Cannot pause the rollout of config app: it is paused/);

  // Bad requests are answered with what is wrong, and change nothing.
  const unknown = await post("/api/v1/rollouts/app/restart");
  t.is(unknown.status, 400);
  t.regex(unknown.body.message, /Unknown rollout action "restart": use one of pause, resume, promote, abort/);
  const missing = await post("/api/v1/rollouts/nothere/pause");
  t.is(missing.status, 404);
  t.regex(missing.body.message, /No rollout of config nothere/);
  t.is((await callJson(server.url, "GET", "/api/v1/rollouts/bad%20name")).status, 400);
  t.is((await rollout(server.url))?.state, "paused");

  const resumed = await runCli(["rollout", "resume", "app", "--server", server.url, "--author", "Cli Person <cli@example.com>"]);
  t.is(resumed.code, 0, resumed.stderr);
  t.regex(resumed.stdout, /app: version \d+ -> \d+, progressing/);
  const promoted = await post("/api/v1/rollouts/app/promote");
  t.is(promoted.body.wave, 3, "promote goes to the last wave");
  await fleet.until("app", async () => (await rollout(server.url))?.state === "completed" && agents.every((a) => fleet.held(a, "app") !== v1));
  const done = (await rollout(server.url)) as RolloutJson;
  const v2 = done.to.version;
  t.deepEqual(done.history.filter((e) => ["pause", "resume", "promote"].includes(e.action)).map((e) => `${e.action} by ${e.who}`), ["pause by Ops Person <ops@example.com>", "resume by Cli Person <cli@example.com>", "promote by an API user"]);

  // A second change, aborted from the CLI: reverted by a commit, later waves never sent anything.
  fleet.deliveries.clear();
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 3\n") });
  const wave1 = agents.filter((a) => waveOf(a.agent.instanceId) === 1);
  // Paused at wave 1 as soon as its agents have the new version, so the CLI's start-up time cannot let it advance.
  let stopped = false;
  await fleet.until("app", async () => {
    if ((await rollout(server.url))?.to.version !== v2 && wave1.every((a) => fleet.held(a, "app") !== v2)) stopped = (await post("/api/v1/rollouts/app/pause")).body.wave === 1;
    return stopped;
  });
  const aborted = await runCli(["rollout", "abort", "app", "--server", server.url, "--author", "Cli Person <cli@example.com>"]);
  t.is(aborted.code, 0, aborted.stderr);
  await fleet.until("app", async () => (await rollout(server.url))?.state === "reverted" && wave1.every((a) => fleet.held(a, "app") === v2));
  const reverted = (await rollout(server.url)) as RolloutJson;
  t.regex(reverted.haltReason ?? "", /aborted by Cli Person <cli@example\.com> at wave 1/);
  t.is(git(repo, "rev-parse", "main").trim(), reverted.revertCommit as string);
  t.regex(git(repo, "log", "-1", "--format=%B", "main"), /aborted by Cli Person/);
  for (const a of later) t.is(fleet.deliveries.get(a.agent.instanceId) ?? 0, 0, `${a.agent.instanceId} was sent nothing`);

  // The CLI reads the same, from the server and from the repository's state file.
  const shown = await runCli(["rollout", "show", "app", "--server", server.url]);
  t.regex(shown.stdout, new RegExp(`revert commit ${reverted.revertCommit}`));
  t.regex(shown.stdout, /Cli Person <cli@example\.com>: abort/);
  const listed = await runCli(["rollout", "list", "--repo", repo]);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, /^app: version \d+ -> \d+, reverted, wave 1/m);
});

test.serial("read-only: a halted rollout with onHalt: revert serves the previous version to everyone and reports the revert pending", async (t) => {
  const { repo } = setup(t, POLICY("revert"), [120, 10, 10]);
  const server = await withServer(t, { repo, readOnly: true });
  const fleet = new Fleet(server.url, 120, 10, 10);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  const wave1 = agents.filter((a) => waveOf(a.agent.instanceId) === 1);
  for (const a of wave1) if (a.kind === "v2") fleet.failing.set(a.agent.instanceId, "");
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  fleet.deliveries.clear();
  const bad = commitFiles(repo, { "configs/app.yaml": configYaml("app", "bad: true\n") });
  await fleet.until("app", async () => (await rollout(server.url))?.state === "halted" && wave1.every((a) => fleet.held(a, "app") === v1));
  const r = (await rollout(server.url)) as RolloutJson;
  t.is(r.mode, "pinned");
  t.regex(r.revertPending ?? "", /^revert pending: read-only/);
  t.is(r.revertCommit, null);
  t.is(git(repo, "rev-parse", "main").trim(), bad, "no commit made");
  for (const a of agents) if (waveOf(a.agent.instanceId) !== 1) t.is(fleet.deliveries.get(a.agent.instanceId) ?? 0, 0);
});

test.serial("a newer commit supersedes a rollout (wave 1 again, from the last completed version); putting that content back reaches everyone at once; a new config reaches only the current waves", async (t) => {
  const { repo } = setup(t, POLICY("pause", "30s"), [120, 10, 10]);
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 120, 10, 10);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  const wave1 = agents.filter((a) => waveOf(a.agent.instanceId) === 1);
  const later = agents.filter((a) => waveOf(a.agent.instanceId) > 1);
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  fleet.deliveries.clear();

  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  await fleet.until("app", () => wave1.every((a) => fleet.held(a, "app") > v1));
  const v2 = fleet.held(wave1[0]!, "app");
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 3\n") });
  await fleet.until("app", () => wave1.every((a) => fleet.held(a, "app") > v2));
  const r3 = (await rollout(server.url)) as RolloutJson;
  t.is(r3.from?.version, v1, "against the last version that completed");
  t.is(r3.wave, 1);
  t.true(r3.history.some((e) => e.action === "superseded"));
  t.true(later.every((a) => fleet.held(a, "app") === v1));

  // The content of the last completed version, committed by a person: everyone at once, at its own version.
  const back = commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 1\n") });
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") === v1));
  const r = (await rollout(server.url)) as RolloutJson;
  t.is(r.state, "reverted");
  t.is(r.revertCommit, back);
  for (const a of wave1) t.is(fleet.deliveries.get(a.agent.instanceId), 3, "version 2, version 3, then the previous one back");
  for (const a of later) t.is(fleet.deliveries.get(a.agent.instanceId) ?? 0, 0);

  // A new config under the policy: only the agents of the current waves get it.
  commitFiles(repo, { "configs/fresh.yaml": configYaml("fresh", "f: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app", "fresh"]) });
  const fresh = await waitFor(() => rollout(server.url, "fresh"));
  t.is(fresh.from, null);
  const current = fresh.wave;
  t.true(current < 3);
  await fleet.round("fresh");
  await fleet.round("fresh");
  t.is((await rollout(server.url, "fresh"))?.wave, current, "still at that wave (bake 30s)");
  for (const a of agents) t.is(fleet.held(a, "fresh") > 0, waveOf(a.agent.instanceId, "fresh") <= current, a.agent.instanceId);
});

test.serial("removing a config (and its group binding) follows the waves: agents outside them keep it until their wave", async (t) => {
  const { repo } = setup(t, POLICY("pause"), [120, 10, 10]);
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 120, 10, 10);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  git(repo, "rm", "-q", "configs/app.yaml");
  commitFiles(repo, { "agent_groups/default.yaml": groupYaml("default", []) });
  const wave1 = agents.filter((a) => waveOf(a.agent.instanceId) === 1);
  await fleet.until("app", () => wave1.every((a) => fleet.held(a, "app") === 0));
  const r = (await rollout(server.url)) as RolloutJson;
  t.is(r.to.version, -1);
  t.is(r.from?.version, v1);
  t.is(r.wave, 1);
  t.true(agents.every((a) => waveOf(a.agent.instanceId) === 1 || fleet.held(a, "app") === v1), "the later waves keep the config");

  await fleet.until("app", async () => (await rollout(server.url))?.state === "completed" && agents.every((a) => fleet.held(a, "app") === 0));
  const done = (await rollout(server.url)) as RolloutJson;
  const advanced = done.history.filter((e) => e.action === "advanced");
  t.is(advanced.length, 2);
  const waveStart = [Date.parse(done.startedAt), Date.parse(advanced[0]!.at), Date.parse(advanced[1]!.at)];
  for (const a of agents) {
    const id = a.agent.instanceId;
    const w = waveOf(id);
    t.true((fleet.firstHeld.get(`${id}\0app\u00000`) as number) >= waveStart[w - 1]!, `${id} (wave ${w}) lost the config before its wave`);
    t.deepEqual(fleet.versionsSeen(id, "app"), [v1, 0]);
  }
});
