import { createHmac } from "node:crypto";
import test from "ava";
import { client, num, pb, send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { getJson, pick, startReplicas, type Replica } from "./helpers/replicas.ts";
import { seededRandom } from "./helpers/seeded.ts";
import { bareRemote, commitFiles, configYaml, groupYaml } from "./helpers/repo.ts";
import { startRedis } from "./helpers/redis.ts";
import { waitFor } from "./helpers/server.ts";
import { Status, V2Agent } from "./helpers/v2Agent.ts";

// Three replicas on one bare remote and one Redis (docs/deployment.md). Each test has its own.
// Serial: each test runs three server processes and a Redis on a shared machine.

const pipeline = (name: string) => `inputs:\n  - Type: input_file\n    FilePaths: [/var/log/${name}.log]\nflushers:\n  - Type: flusher_stdout\n`;
const initial = () => ({ "configs/c1.yaml": configYaml("c1", pipeline("c1")), "agent_groups/default.yaml": groupYaml("default", ["c1"]) });

/** An alpha agent (ilogtail 1.x): HeartBeat then GetConfigList, both to the replica it reached this time. */
class AlphaAgent {
  versions: Record<string, number> = {};
  constructor(readonly id: string, readonly tags: Record<string, string>) {}
  async cycle(url: string): Promise<{ status: number; names: string[] }> {
    const api = client(url);
    const hb = await api.heartbeat({ agent_id: this.id, agent_type: "ilogtail", agent_version: "1.8.7", ip: "10.1.0.9", tags: this.tags, running_status: "running", startup_time: 1_700_000_000 });
    if (hb.status !== 200) return { status: hb.status, names: [] };
    const r = await api.configList({ agent_id: this.id, config_versions: this.versions });
    for (const u of r.body.config_update_infos) {
      if (u.update_status === pb.ConfigUpdateInfo.UpdateStatus.DELETED) delete this.versions[u.config_name ?? ""];
      else if (u.update_status !== pb.ConfigUpdateInfo.UpdateStatus.SAME) this.versions[u.config_name ?? ""] = num(u.config_version);
    }
    return { status: r.status, names: Object.keys(this.versions).sort() };
  }
}

const listAgents = async (r: Replica) => {
  const res = await r.api.listAgents({ group_name: "default" });
  return pb.ListAgentsResponse.toObject(res.body, { longs: Number, defaults: true }).agents as { agent_id: string }[];
};
const status = (r: Replica) => getJson<{ agents: number; commit: string; fleetView: { degraded: boolean; shared: boolean; reason?: string } }>(`${r.url}/status`).then((x) => x.body);

/** Waits until every replica answers `read` the same, and returns that answer. */
async function same<T>(replicas: readonly Replica[], read: (r: Replica) => Promise<T>, ok: (v: T) => boolean = () => true): Promise<T> {
  let last: string[] = [];
  try {
    return await waitFor(async () => {
      const answers = await Promise.all(replicas.map(read));
      last = answers.map((a) => JSON.stringify(a));
      return last.every((a) => a === last[0]) && ok(answers[0] as T) ? { v: answers[0] as T } : undefined;
    }, { timeoutMs: 15_000, intervalMs: 50 }).then((x) => x.v);
  } catch (e) {
    throw new Error(`${(e as Error).message}; the replicas answered:\n${last.join("\n")}`);
  }
}

test.serial("agents of every protocol on random replicas: ListAgents, the agents API and rollouts are the same on every replica", async (t) => {
  const redis = await startRedis(t);
  const { url } = bareRemote(initial());
  const replicas = await startReplicas(t, url, redis.url);
  const random = seededRandom(t, "REPLICAS_SEED");
  const alpha = ["alpha-1", "alpha-2", "alpha-3"].map((id, i) => new AlphaAgent(id, { env: i === 0 ? "prod" : "dev" }));
  const v2 = ["v2-1", "v2-2"].map((id) => new V2Agent(replicas[0]!.url, id, { env: "prod" }));
  t.teardown(() => v2.forEach((a) => a.cleanup()));
  // v1 agents: src/protocols/v1 has not landed on main yet (docs/deployment.md says what it shares).
  for (let round = 0; round < 3; round++) {
    for (const a of alpha) {
      const r = await a.cycle(pick(replicas, random).url);
      t.is(r.status, 200);
    }
    for (const a of v2) {
      a.pointAt(pick(replicas, random).url);
      t.is((await a.cycle()).status, 200);
      a.load((name) => (a.instanceId === "v2-2" && name === "c1" ? "plugin input_file: no such directory" : undefined));
    }
  }
  for (const a of alpha) t.deepEqual(a.versions, { c1: 1 }, "every alpha agent got c1 from whichever replica it asked");
  // v2-2 reports c1 FAILED, to one replica.
  v2[1]!.pointAt(replicas[0]!.url);
  t.is((await v2[1]!.cycle()).status, 200);

  const listed = await same(replicas, listAgents, (l) => l.length === 5);
  t.deepEqual(listed.map((a) => a.agent_id), ["alpha-1", "alpha-2", "alpha-3", "v2-1", "v2-2"]);
  const api = await same(replicas, (r) => getJson(`${r.url}/api/v1/agents`).then((x) => x.body), (b) => b.total === 5);
  t.is((api.agents as { protocol: string }[]).filter((a) => a.protocol === "v2").length, 2);
  // Filters and paging answer the same everywhere too.
  const prodPage = await same(replicas, (r) => getJson(`${r.url}/api/v1/agents?tag=env=prod&limit=2`).then((x) => x.body));
  t.deepEqual((prodPage.agents as { agentId: string }[]).map((a) => a.agentId), ["alpha-1", "v2-1"]);
  t.is(prodPage.total, 3);
  t.is(prodPage.next, "v2-1");
  const rest = await same(replicas, (r) => getJson(`${r.url}/api/v1/agents?tag=env=prod&limit=2&after=v2-1`).then((x) => x.body));
  t.deepEqual((rest.agents as { agentId: string }[]).map((a) => a.agentId), ["v2-2"]);
  const failed = await same(replicas, (r) => getJson(`${r.url}/api/v1/agents?failed=true`).then((x) => x.body));
  t.deepEqual((failed.agents as { agentId: string }[]).map((a) => a.agentId), ["v2-2"]);

  // The FAILED status sent to replica A shows in the rollout on B and C.
  for (const r of replicas.slice(1)) {
    const rollout = await getJson<{ targeted: number; failed: number; failures: { message: string; agents: string[] }[] }>(`${r.url}/api/v1/configs/c1/rollout`);
    t.is(rollout.body.targeted, 5, r.name);
    t.is(rollout.body.failed, 1, r.name);
    t.deepEqual(rollout.body.failures, [{ message: "plugin input_file: no such directory", count: 1, agents: ["v2-2"] }]);
  }
  const one = await getJson<{ pipelineConfigs: { name: string; status: string }[] }>(`${replicas[2]!.url}/api/v1/agents/v2-2`);
  t.deepEqual(one.body.pipelineConfigs.map((c) => [c.name, c.status]), [["c1", "FAILED"]]);
  for (const r of replicas) {
    const s = await status(r);
    t.is(s.agents, 5);
    t.true(s.fleetView.shared);
    t.false(s.fleetView.degraded);
  }
  t.is(v2[1]!.pipelines.get("c1")?.status, Status.FAILED);
});

test.serial("a webhook or a write on one replica is served by the others at once; concurrent writes through all three converge", async (t) => {
  const redis = await startRedis(t);
  const { url, bare, person } = bareRemote(initial());
  const secret = "replica-webhook-secret";
  const replicas = await startReplicas(t, url, redis.url, 3, ["--webhook-secret", secret]);
  const [a, b, c] = replicas as [Replica, Replica, Replica];
  const agents = replicas.map((r) => new AlphaAgent(`agent-${r.name}`, {}));
  for (let i = 0; i < 3; i++) t.is((await agents[i]!.cycle(replicas[i]!.url)).status, 200);

  // A push to the remote, and its webhook delivered to C only: A and B fetch too.
  commitFiles(person, { "configs/c0.yaml": configYaml("c0", pipeline("c0")), "agent_groups/default.yaml": groupYaml("default", ["c0", "c1"]) });
  git(person, "push", "-q", "origin", "main");
  const payload = JSON.stringify({ ref: "refs/heads/main", after: git(bare, "rev-parse", "main").trim() });
  const hook = await send(c.url, "POST", "/hooks/git", payload, { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(payload).digest("hex")}` });
  t.is(hook.status, 202);
  for (const i of [0, 1]) {
    await waitFor(async () => (await agents[i]!.cycle(replicas[i]!.url)).names.includes("c0"), { timeoutMs: 10_000, intervalMs: 50 });
  }

  const created = await a.api.createConfig({ config_detail: { config_name: "c2", agent_type: "ilogtail", content: pipeline("c2") } });
  t.is(created.body.code, "Accept");
  t.is((await a.api.apply({ group_name: "default", config_name: "c2" })).body.code, "Accept");
  // Their poll is 10 minutes away: only the announcement can bring c2 this soon.
  for (const i of [1, 2]) {
    const names = await waitFor(async () => {
      const r = await agents[i]!.cycle(replicas[i]!.url);
      return r.names.includes("c2") ? r.names : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    t.deepEqual(names, ["c0", "c1", "c2"], replicas[i]!.name);
  }

  // Three writers at once, each creating configs and binding them to the one group file.
  const outcomes = await Promise.all(replicas.map(async (r) => {
    const out: { name: string; created: boolean; applied: boolean; error?: string }[] = [];
    for (let k = 0; k < 3; k++) {
      const name = `w-${r.name.toLowerCase()}-${k}`;
      const cr = await r.api.createConfig({ config_detail: { config_name: name, agent_type: "ilogtail", content: pipeline(name) } });
      const ap = cr.body.code === "Accept" ? await r.api.apply({ group_name: "default", config_name: name }) : undefined;
      out.push({ name, created: cr.body.code === "Accept", applied: ap?.body.code === "Accept", ...(ap && ap.body.code !== "Accept" ? { error: `${ap.body.code}: ${ap.body.message}` } : cr.body.code !== "Accept" ? { error: `${cr.body.code}: ${cr.body.message}` } : {}) });
    }
    return out;
  }));
  const all = outcomes.flat();
  t.log(`${all.filter((o) => o.created).length}/9 creates and ${all.filter((o) => o.applied).length}/9 applies acknowledged; refused: ${all.filter((o) => o.error).map((o) => o.error).join(" | ") || "none"}`);
  t.true(all.some((o) => o.applied), "some writes went through");
  for (const o of all) if (o.error) t.regex(o.error, /Conflict|ServerBusy|moving|Retry/, "a refused write says why");
  // Every acknowledged write is on the remote; a refused binding is not.
  const remoteFiles = git(bare, "ls-tree", "--name-only", "main", "configs/").split("\n");
  const remoteGroup = git(bare, "show", "main:agent_groups/default.yaml");
  for (const o of all) {
    if (o.created) t.true(remoteFiles.includes(`configs/${o.name}.yaml`), `${o.name} created and acknowledged`);
    if (o.applied) t.true(remoteGroup.includes(o.name), `${o.name} applied and acknowledged`);
    else t.false(remoteGroup.includes(o.name), `${o.name} not applied: not bound on the remote`);
  }
  // All three serve the remote's commit, with the same versions.
  const tip = git(bare, "rev-parse", "main").trim();
  await same(replicas, (r) => status(r).then((s) => s.commit), (commit) => commit === tip);
  const expected = Object.fromEntries(["c0", "c1", "c2", ...all.filter((o) => o.applied).map((o) => o.name)].map((n) => [n, true]));
  const versions = await same(replicas, async (r) => {
    const agent = new AlphaAgent(`check-${r.name}`, {});
    await agent.cycle(r.url);
    return agent.versions;
  });
  t.deepEqual(Object.keys(versions).sort(), Object.keys(expected).sort());
});

test.serial("Redis stopped: agents keep their configs from every replica and the view says degraded; restarted: the view refills; a replica killed: nothing lost", async (t) => {
  const redis = await startRedis(t);
  const { url } = bareRemote(initial());
  const replicas = await startReplicas(t, url, redis.url);
  const [a, b, c] = replicas as [Replica, Replica, Replica];
  const alpha = replicas.map((r) => new AlphaAgent(`alpha-${r.name}`, { env: "prod" }));
  const v2 = replicas.map((r) => new V2Agent(r.url, `v2-${r.name}`, { env: "prod" }));
  t.teardown(() => v2.forEach((x) => x.cleanup()));
  // Each agent talks to its own replica only: C's agents are known to C alone, and to Redis.
  for (let i = 0; i < 3; i++) {
    t.is((await alpha[i]!.cycle(replicas[i]!.url)).status, 200);
    t.is((await v2[i]!.cycle()).status, 200);
  }
  const ids = ["alpha-A", "alpha-B", "alpha-C", "v2-A", "v2-B", "v2-C"];
  await same(replicas, (r) => listAgents(r).then((l) => l.map((x) => x.agent_id)), (l) => l.length === 6);

  await redis.stop();
  for (let i = 0; i < 3; i++) {
    const r = await alpha[i]!.cycle(replicas[i]!.url);
    t.is(r.status, 200, `alpha agent on ${replicas[i]!.name} while Redis is down`);
    t.deepEqual(r.names, ["c1"]);
    const v = await v2[i]!.cycle();
    t.is(v.status, 200, `v2 agent on ${replicas[i]!.name} while Redis is down`);
    t.true(v2[i]!.pipelines.has("c1"));
  }
  for (const r of replicas) {
    const s = await waitFor(async () => ((await status(r)).fleetView.degraded ? status(r) : undefined), { timeoutMs: 10_000 });
    t.true(s.fleetView.degraded, r.name);
    t.regex(s.fleetView.reason ?? "", /Redis/);
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    t.regex(metrics, /^configserver_fleet_view_degraded 1$/m);
    // Listings still answer: what this replica knows.
    t.true((await listAgents(r)).length >= 2);
  }

  // Back, empty (no persistence): each replica writes its agents again, no heartbeat needed.
  await redis.start();
  t.deepEqual(await same(replicas, (r) => listAgents(r).then((l) => l.map((x) => x.agent_id)), (l) => l.length === 6), ids);
  for (const r of replicas) t.false((await waitFor(async () => ((await status(r)).fleetView.degraded ? undefined : status(r)))).fleetView.degraded);
  t.true((await redis.client().exists("cs:a:v2-C")) === 1, "C's agent is in Redis again");

  // C dies without a word. A and B keep serving, and the shared view keeps C's agents.
  c.proc.child.kill("SIGKILL");
  await c.proc.exited;
  for (const [i, r] of [[0, a], [1, b]] as const) {
    const x = await alpha[i]!.cycle(r.url);
    t.is(x.status, 200);
    t.deepEqual(x.names, ["c1"]);
  }
  t.deepEqual(await same([a, b], (r) => listAgents(r).then((l) => l.map((x) => x.agent_id))), ids);
  t.is((await status(a)).agents, 6);
});
