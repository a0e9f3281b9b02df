// Rollouts across replicas on one Redis (docs/rollouts.md, "State, restarts and several processes"): real
// `configserver serve` processes, each with its own clone of one bare remote, one real
// redis-server, and agents of the three protocols that reach a different replica each round, as
// behind a load balancer without affinity. One replica decides (it holds the lease); every agent
// must get the same answer from both. Serial: each test runs two servers and a Redis.
import { createHmac } from "node:crypto";
import test from "ava";
import { send } from "./helpers/client.ts";
import { Fleet, type AnyAgent } from "./helpers/fleet.ts";
import { git } from "./helpers/git.ts";
import { getJson, startReplicas, type Replica } from "./helpers/replicas.ts";
import { bareRemote, commitFiles, configYaml, groupYaml } from "./helpers/repo.ts";
import type { RolloutJson } from "./helpers/rollouts.ts";
import { startRedis } from "./helpers/redis.ts";
import { waitFor } from "./helpers/server.ts";


const SECRET = "rollout-replicas-webhook";

const rollout = async (r: Replica): Promise<RolloutJson | undefined> => {
  const res = await getJson<RolloutJson>(`${r.url}/api/v1/rollouts/app`);
  return res.status === 200 ? res.body : undefined;
};

const deciding = async (r: Replica): Promise<boolean> => (await getJson<{ rollouts: { deciding: boolean } }>(`${r.url}/status`)).body.rollouts.deciding;

/** The replicas as [the one that decides, the other], once exactly one holds the lease. */
async function roles(replicas: readonly Replica[]): Promise<[Replica, Replica]> {
  return waitFor(async () => {
    const d = await Promise.all(replicas.map(deciding));
    if (d.filter(Boolean).length !== 1) return undefined;
    return d[0] ? ([replicas[0], replicas[1]] as [Replica, Replica]) : ([replicas[1], replicas[0]] as [Replica, Replica]);
  }, { timeoutMs: 20_000, intervalMs: 50 });
}

/** A person's change pushed to the remote, and its webhook delivered to `to` only (the other replica hears of it through Redis). */
async function push(remote: { bare: string; person: string }, files: Record<string, string>, to: Replica): Promise<void> {
  commitFiles(remote.person, files);
  git(remote.person, "push", "-q", "origin", "main");
  const payload = JSON.stringify({ ref: "refs/heads/main", after: git(remote.bare, "rev-parse", "main").trim() });
  const hook = await send(to.url, "POST", "/hooks/git", payload, { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(payload).digest("hex")}` });
  if (hook.status !== 202) throw new Error(`webhook answered ${hook.status}`);
}

/** Rounds of the whole fleet, each round at the next replica of `targets`, until `done`. */
async function rounds(fleet: Fleet, targets: readonly Replica[], done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    fleet.pointAt((targets[i % targets.length] as Replica).url);
    await fleet.round("app");
    if (await done()) return;
    if (Date.now() > deadline) throw new Error(`fleet: condition not met within ${timeoutMs} ms`);
  }
}

function setup(policy: string) {
  return bareRemote({ "rollout.yaml": policy, "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
}

/** No agent ever went back to an older version (which a replica serving another wave would cause). */
function neverBack(t: { deepEqual: (a: unknown, b: unknown, m: string) => void }, fleet: Fleet, v1: number): void {
  for (const a of fleet.agents) {
    const seen = fleet.versionsSeen(a.agent.instanceId, "app");
    t.deepEqual(seen, seen.length === 1 ? [v1] : [v1, v1 + 1], `${a.agent.instanceId} held ${seen.join(" → ")}`);
  }
}

test.serial("two replicas on one Redis: one decides, every agent gets the same answer from both, and a promote through the other replica is carried out and recorded", async (t) => {
  const redis = await startRedis(t);
  const remote = setup("waves: [50%, 100%]\nbake: 1h\napplyTimeout: 1h\nonHalt: pause\n");
  const replicas = await startReplicas(t, remote.url, redis.url, 2, ["--webhook-secret", SECRET]);
  const [decider, other] = await roles(replicas);
  const fleet = new Fleet(decider.url, 24, 4, 4);
  t.teardown(() => fleet.cleanup());
  await rounds(fleet, replicas, async () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(fleet.agents[0] as AnyAgent, "app");

  // The webhook reaches the replica that does not decide: it serves the commit first.
  await push(remote, { "configs/app.yaml": configYaml("app", "a: 2\n") }, other);
  const atWave1 = async () => (await Promise.all(replicas.map(rollout))).every((r) => r?.state === "progressing" && r.wave === 1 && r.to.version === v1 + 1);
  await waitFor(atWave1, { timeoutMs: 20_000, intervalMs: 50 });
  // Wave 1 bakes for an hour: rounds alternate between the replicas; the same agents hold the new version on both.
  let stable = 0;
  let holding: string[] = [];
  await rounds(fleet, replicas, async () => {
    const now = fleet.agents.filter((a) => fleet.held(a, "app") === v1 + 1).map((a) => a.agent.instanceId);
    stable = now.join() === holding.join() && now.length > 0 ? stable + 1 : 0;
    holding = now;
    return stable >= 4;
  });
  t.true(holding.length > 0 && holding.length < fleet.agents.length, `wave 1 (50%) holds ${holding.length} of ${fleet.agents.length}`);
  neverBack(t, fleet, v1);
  const [seenD, seenO] = await Promise.all([rollout(decider), rollout(other)]);
  t.deepEqual(seenO?.waves, seenD?.waves, "both replicas count the waves the same");

  // A promote through the replica that does not decide: carried out by the one that does, for both.
  const promoted = await send(other.url, "POST", "/api/v1/rollouts/app/promote", "{}", { "content-type": "application/json", "x-configserver-author": "Ops Person <ops@example.com>" });
  t.is(promoted.status, 200, promoted.body.toString());
  await rounds(fleet, replicas, async () => fleet.agents.every((a) => fleet.held(a, "app") === v1 + 1));
  neverBack(t, fleet, v1);
  for (const r of replicas) {
    const seen = (await waitFor(async () => {
      const x = await rollout(r);
      return x?.wave === 2 ? x : undefined;
    })) as RolloutJson;
    t.deepEqual(seen.history.filter((e) => e.action === "promote").map((e) => e.who), ["Ops Person <ops@example.com>"], `${r.name}: the promote is recorded once, with who did it`);
  }
  // Still exactly one decides, and only it wrote the state file's events: the other never made a commit.
  t.is((await Promise.all(replicas.map(deciding))).filter(Boolean).length, 1);
});

test.serial("the replica that decides is killed mid-rollout: the other takes over from the shared records (paused stays paused, at the same wave) with no re-sends", async (t) => {
  const redis = await startRedis(t);
  const remote = setup("waves: [50%, 100%]\nbake: 1s\napplyTimeout: 1h\nonHalt: pause\n");
  const replicas = await startReplicas(t, remote.url, redis.url, 2, ["--webhook-secret", SECRET]);
  const [decider, other] = await roles(replicas);
  const fleet = new Fleet(other.url, 24, 4, 4);
  t.teardown(() => fleet.cleanup());
  await rounds(fleet, replicas, async () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(fleet.agents[0] as AnyAgent, "app");
  for (const a of fleet.agents) fleet.deliveries.delete(a.agent.instanceId);

  await push(remote, { "configs/app.yaml": configYaml("app", "a: 2\n") }, decider);
  await waitFor(async () => (await Promise.all(replicas.map(rollout))).every((r) => r?.state === "progressing" && r.to.version === v1 + 1), { timeoutMs: 20_000, intervalMs: 50 });
  // Paused at wave 1 through the replica that decides; then it dies.
  const paused = await send(decider.url, "POST", "/api/v1/rollouts/app/pause", "{}", { "content-type": "application/json", "x-configserver-author": "First Person <first@example.com>" });
  t.is(paused.status, 200, paused.body.toString());
  t.is(JSON.parse(paused.body.toString()).wave, 1);
  await rounds(fleet, replicas, async () => (await rollout(other))?.state === "paused" && fleet.agents.some((a) => fleet.held(a, "app") === v1 + 1));
  decider.proc.child.kill("SIGKILL");
  await decider.proc.exited;

  // The survivor takes the lease over and continues from what was shared: still paused at wave 1,
  // for longer than the bake (on its own it would have advanced).
  await waitFor(() => deciding(other), { timeoutMs: 20_000, intervalMs: 50 });
  const heldNew = () => fleet.agents.filter((a) => fleet.held(a, "app") === v1 + 1).map((a) => a.agent.instanceId).join();
  const atPause = heldNew();
  const takenOver = Date.now();
  await rounds(fleet, [other], async () => Date.now() - takenOver > 2500);
  const still = (await rollout(other)) as RolloutJson;
  t.is(still.state, "paused");
  t.is(still.wave, 1);
  t.is(heldNew(), atPause, "no agent beyond wave 1 got the new version while paused");

  const resumed = await send(other.url, "POST", "/api/v1/rollouts/app/resume", "{}", { "content-type": "application/json", "x-configserver-author": "Second Person <second@example.com>" });
  t.is(resumed.status, 200, resumed.body.toString());
  await rounds(fleet, [other], async () => (await rollout(other))?.state === "completed" && fleet.agents.every((a) => fleet.held(a, "app") === v1 + 1));
  const done = (await rollout(other)) as RolloutJson;
  t.is(done.history.filter((e) => e.action === "started").length, 1, "the rollout was continued, not started again");
  t.deepEqual(done.history.filter((e) => e.action === "pause" || e.action === "resume").map((e) => `${e.action} by ${e.who}`), ["pause by First Person <first@example.com>", "resume by Second Person <second@example.com>"]);
  neverBack(t, fleet, v1);
  for (const a of fleet.agents) t.is(fleet.deliveries.get(a.agent.instanceId), 1, `${a.agent.instanceId} was sent the new version once`);
});

test.serial("while no replica decides (the lease is held by one that is gone), an operator's action is answered 503 ServerBusy, saying why, and changes nothing", async (t) => {
  const redis = await startRedis(t);
  // A replica that died holding the lease: its key stays until it expires (a minute here).
  const holder = redis.client();
  await holder.set("cs:rollouts:owner", "a-replica-that-died", "PX", 60_000);
  const remote = setup("waves: [50%, 100%]\nbake: 1h\napplyTimeout: 1h\nonHalt: pause\n");
  const [only] = await startReplicas(t, remote.url, redis.url, 1);
  const replica = only as Replica;
  t.false(await deciding(replica));
  const paused = await send(replica.url, "POST", "/api/v1/rollouts/app/pause", "{}", { "content-type": "application/json", "x-configserver-author": "Ops Person <ops@example.com>" });
  t.is(paused.status, 503);
  const body = JSON.parse(paused.body.toString()) as { code: string; message: string };
  t.is(body.code, "ServerBusy");
  t.regex(body.message, /No replica that decides the rollouts answered within 5000 ms/);
  t.is((await getJson(`${replica.url}/api/v1/rollouts`)).status, 200);
  t.deepEqual((await getJson<{ rollouts: unknown[] }>(`${replica.url}/api/v1/rollouts`)).body.rollouts, [], "nothing was started or recorded");
  t.false(await deciding(replica), "the lease is still the other one's");
});
