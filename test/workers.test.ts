import { Agent, request } from "node:http";
import test, { type ExecutionContext } from "ava";
import { client, pb } from "./helpers/client.ts";
import { git, personEnv } from "./helpers/git.ts";
import { startRedis } from "./helpers/redis.ts";
import { bareRemote, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { getJson, startReplicas, type Replica } from "./helpers/replicas.ts";
import { serveProcess, type ServeProcess } from "./helpers/serveProcess.ts";
import { waitFor } from "./helpers/server.ts";
import { NEW, V1Agent } from "./helpers/v1Agent.ts";
import { Status, V2Agent } from "./helpers/v2Agent.ts";

// Every request on a new connection: node:cluster hands each connection to the next worker, so an
// agent's requests land on one worker and then the other, as agents without keep-alive do.
const FRESH = { connection: "close" };
const UpdateStatus = pb.ConfigUpdateInfo.UpdateStatus;

interface Worker {
  id: number;
  pid: number;
  state: string;
  commit: string | null;
  requests: number;
}

interface Served {
  readonly proc: ServeProcess;
  readonly url: string;
  readonly repo: string;
  workers(): Promise<Worker[]>;
}

function repository(): string {
  const repo = repoWith("cs-workers-", {
    "configs/c1.yaml": configYaml("c1", "inputs: [one]\n"),
    "configs/c2.yaml": configYaml("c2", "inputs: [two]\n"),
    "agent_groups/prod.yaml": groupYaml("prod", ["c1", "c2"], [["env", "prod"]]),
  }, "initial state");
  return repo;
}

/** `configserver serve --workers 2`, as an operator runs it; killed when the test ends. */
async function serveWorkers(t: ExecutionContext, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const repo = repository();
  const proc = serveProcess(["--repo", repo, "--port", "0", "--workers", "2", "--log-level", "info", ...extra], { GIT_CONFIG_NOSYSTEM: personEnv.GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL: "/dev/null", ...env });
  t.teardown(async () => {
    const pids = proc.logs.find((l) => l.msg === "configserver listening")?.pids as number[] | undefined;
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
    await proc.exited;
    // Workers whose primary is gone exit on their own; any left would be a bug to see, not to leave running.
    for (const pid of pids ?? []) await waitFor(() => !alive(pid), { timeoutMs: 10_000 }).catch(() => process.kill(pid, "SIGKILL"));
  });
  const url = await proc.url();
  const workers = async () => (await getJson<{ workers: Worker[] }>(`${url}/status`)).body.workers;
  await waitFor(async () => (await workers()).filter((w) => w.state === "serving").length === 2);
  return { proc, url, repo, workers };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const head = (repo: string) => git(repo, "rev-parse", "HEAD").trim();
const commits = (repo: string) => Number(git(repo, "rev-list", "--count", "HEAD").trim());

async function listAgents(url: string) {
  const res = await client(url, FRESH).listAgents({ group_name: "default" });
  return pb.ListAgentsResponse.toObject(res.body, { longs: Number, defaults: true }).agents as { agent_id: string; latest_heartbeat_time: number; tags: Record<string, string> }[];
}

async function alphaAgent(url: string, id: string) {
  const api = client(url, FRESH);
  const hb = await api.heartbeat({ agent_id: id, agent_type: "ilogtail", agent_version: "1.8.0", ip: "10.0.0.1", tags: { env: "prod" }, running_status: "running" });
  if (hb.status !== 200) throw new Error(`HeartBeat answered ${hb.status}: ${hb.body.message}`);
  return api;
}

async function configList(url: string, id: string, versions: Record<string, number>) {
  const r = await client(url, FRESH).configList({ agent_id: id, config_versions: versions });
  return { status: r.status, code: r.body.code, infos: r.body.config_update_infos.map((i) => ({ name: i.config_name, status: i.update_status, version: Number(i.config_version) })) };
}

test("agents of each protocol, their requests spread over two workers, converge; ListAgents and the agents API give the same answer on every request", async (t) => {
  // Fetch mode: a v2 agent fetches right after its heartbeat, usually from the other worker.
  const s = await serveWorkers(t, ["--v2-config-details", "fetch"]);
  const before = await s.workers();
  const versions: Record<string, number> = {};
  for (let i = 0; i < 4; i++) {
    await alphaAgent(s.url, `alpha-${i}`);
    const first = await configList(s.url, `alpha-${i}`, {});
    t.is(first.status, 200, `alpha-${i}: ${first.code}`);
    t.deepEqual(first.infos.map((c) => [c.name, c.status]), [["c1", UpdateStatus.NEW], ["c2", UpdateStatus.NEW]]);
    for (const c of first.infos) versions[c.name as string] = c.version;
    // Converged: the next poll (on the other worker) has nothing to change.
    const next = await configList(s.url, `alpha-${i}`, versions);
    t.deepEqual(next.infos.map((c) => c.status), [UpdateStatus.SAME, UpdateStatus.SAME]);
  }
  const v2 = Array.from({ length: 4 }, (_, i) => new V2Agent(s.url, `v2-${i}`, { env: "prod" }));
  t.teardown(() => v2.forEach((a) => a.cleanup()));
  for (const a of v2) {
    a.headers = FRESH;
    const first = await a.cycle();
    t.is(first.status, 200);
    t.true(first.fetched, "fetch mode");
    t.deepEqual(first.pipelineUpdates.map((c) => c.name), ["c1", "c2"], "the fetch found the agent whatever worker heard its heartbeat");
    a.load();
    const second = await a.cycle();
    t.deepEqual(second.pipelineUpdates, [], "nothing more to send");
    t.deepEqual([...a.pipelines.values()].map((c) => c.status), [Status.APPLIED, Status.APPLIED]);
  }
  const v1 = Array.from({ length: 4 }, (_, i) => new V1Agent(s.url, `v1-${i}`, { env: "prod" }));
  t.teardown(() => v1.forEach((a) => a.cleanup()));
  for (const a of v1) {
    a.headers = FRESH;
    const first = await a.cycle();
    t.is(first.status, 200);
    t.deepEqual(first.results.map((r) => [r.name, r.status]).sort(), [["c1", NEW], ["c2", NEW]]);
    t.is(first.fetchStatus, 200, "the fetch (on the other worker) answered");
    t.deepEqual(Object.keys(a.files()), ["c1", "c2"]);
    t.deepEqual((await a.cycle()).results, [], "nothing more to change");
  }
  const after = await s.workers();
  for (const w of after) {
    const was = before.find((b) => b.id === w.id)?.requests ?? 0;
    t.true(w.requests - was >= 12, `worker ${w.id} answered ${w.requests - was} of the requests`);
  }
  // Every listing, whatever worker forwards it, is the primary's one view.
  const lists = [];
  for (let k = 0; k < 6; k++) lists.push(await listAgents(s.url));
  t.is(lists[0]?.length, 12);
  for (const l of lists) t.deepEqual(l, lists[0]);
  const api = [];
  for (let k = 0; k < 4; k++) api.push((await getJson<{ agents: { id: string; protocol: string }[] }>(`${s.url}/api/v1/agents`)).body.agents.map((a) => [a.id, a.protocol]));
  for (const l of api) t.deepEqual(l, api[0]);
  t.is(api[0]?.filter(([, p]) => p === "v2").length, 4);
  t.is(api[0]?.filter(([, p]) => p === "v1").length, 4);
  const rollouts = [];
  for (let k = 0; k < 4; k++) rollouts.push((await getJson<Record<string, unknown>>(`${s.url}/api/v1/configs/c1/rollout`)).body);
  for (const r of rollouts) t.deepEqual(r, rollouts[0]);
  t.like(rollouts[0], { targeted: 12, applied: 12, failed: 0 });
});

/** GetConfigList over kept connections (one per worker once `warm` opened them at once). */
function keptConnections() {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const poll = (url: string, id: string, versions: Record<string, number>) => new Promise<{ name: string; status: number }[]>((resolve, reject) => {
    const body = pb.AgentGetConfigListRequest.encode(pb.AgentGetConfigListRequest.fromObject({ agent_id: id, config_versions: versions })).finish();
    const req = request(`${url}/Agent/GetConfigList`, { method: "POST", agent, headers: { "content-type": "application/x-protobuf", "content-length": body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(pb.AgentGetConfigListResponse.decode(Buffer.concat(chunks)).config_update_infos.map((i) => ({ name: i.config_name ?? "", status: i.update_status ?? 0 }))));
    });
    req.on("error", reject);
    req.end(body);
  });
  return { agent, poll };
}

test("a User API write is one commit, and every worker serves it before the write is answered", async (t) => {
  const s = await serveWorkers(t);
  await alphaAgent(s.url, "a1");
  const start = await configList(s.url, "a1", {});
  const versions = Object.fromEntries(start.infos.map((c) => [c.name, c.version]));
  const kept = keptConnections();
  t.teardown(() => kept.agent.destroy());
  await Promise.all(Array.from({ length: 4 }, () => kept.poll(s.url, "a1", versions)));
  const count = commits(s.repo);
  const w = await client(s.url, FRESH).updateConfig({ config_detail: { config_name: "c1", agent_type: "ilogtail", description: "", content: "inputs: [changed]\n" } });
  t.is(w.status, 200, w.body.message ?? "");
  t.is(commits(s.repo), count + 1, "one commit");
  // At once, with no waiting: polls on new connections reach both workers; each has the commit.
  const polls = await Promise.all(Array.from({ length: 6 }, () => configList(s.url, "a1", versions)));
  for (const p of polls) t.deepEqual(p.infos.filter((c) => c.status === UpdateStatus.MODIFIED).map((c) => c.name), ["c1"]);
  // And over the connections both workers already held.
  const again = await Promise.all(Array.from({ length: 4 }, () => kept.poll(s.url, "a1", versions)));
  for (const p of again) t.deepEqual(p.filter((c) => c.status === UpdateStatus.MODIFIED).map((c) => c.name), ["c1"]);
  t.deepEqual((await s.workers()).map((x) => x.commit), [head(s.repo), head(s.repo)]);
});

test("a worker killed with SIGKILL is replaced; no acknowledged write is lost and the next requests succeed", async (t) => {
  const s = await serveWorkers(t);
  for (let i = 0; i < 6; i++) await alphaAgent(s.url, `agent-${i}`);
  const [victim] = await s.workers();
  const acknowledged: string[] = [];
  let stop = false;
  // Writes through both workers while one dies: some fail (those in flight on it), none that was answered may be lost.
  // With a timeout, as any real client has: a connection node:cluster was handing to the worker as
  // it died is never answered (the primary keeps its copy open; docs/deployment.md).
  const writer = (async () => {
    for (let i = 0; !stop && i < 200; i++) {
      const name = `w${i}`;
      const r = await client(s.url, FRESH, 5000).createConfig({ config_detail: { config_name: name, agent_type: "ilogtail", description: "", content: `inputs: [${i}]\n` } }).catch(() => undefined);
      if (r?.status === 200) acknowledged.push(name);
    }
  })();
  await waitFor(() => acknowledged.length >= 3);
  process.kill(victim?.pid as number, "SIGKILL");
  await waitFor(() => !alive(victim?.pid as number));
  await waitFor(() => acknowledged.length >= 8);
  stop = true;
  await writer;
  // Right after the death (the replacement may still be starting), requests succeed.
  for (let k = 0; k < 8; k++) {
    const r = await configList(s.url, `agent-${k % 6}`, {});
    t.is(r.status, 200, `agent-${k % 6} after the kill: ${r.code}`);
  }
  const workers = await waitFor(async () => {
    const ws = await s.workers();
    return ws.filter((w) => w.state === "serving").length === 2 && ws.every((w) => w.pid !== victim?.pid) ? ws : undefined;
  });
  t.true(workers.some((w) => w.id > 2), "a new worker took its place");
  const tree = git(s.repo, "ls-tree", "--name-only", "HEAD", "configs/");
  for (const name of acknowledged) t.true(tree.includes(`configs/${name}.yaml`), `${name} was acknowledged`);
  // The agents the dead worker heard are still known to every worker, the new one included.
  for (let k = 0; k < 8; k++) {
    const r = await configList(s.url, `agent-${k % 6}`, {});
    t.is(r.status, 200, `agent-${k % 6}: ${r.code}`);
  }
  t.is((await listAgents(s.url)).length, 6);
  const got = await client(s.url, FRESH).getConfig({ config_name: acknowledged.at(-1) });
  t.is(got.status, 200);
});

test("SIGTERM stops the primary and every worker by themselves within --shutdown-timeout (nothing cut, nothing killed), exit status 0; so does a signal to every process at once", async (t) => {
  for (const everyone of [false, true]) {
    const s = await serveWorkers(t, ["--shutdown-timeout", "5s"]);
    const pids = (await s.workers()).map((w) => w.pid);
    s.proc.child.kill("SIGTERM");
    // As systemd or Ctrl-C do: the signal reaches the workers too.
    if (everyone) for (const pid of pids) process.kill(pid, "SIGTERM");
    // It exits by itself (the test's timeout bounds the wait), and within the bound: nothing had
    // to be cut at the deadline and no worker had to be killed.
    t.is(await s.proc.exited, 0, s.proc.stderr());
    const said = (text: string) => s.proc.logs.some((l) => typeof l.msg === "string" && l.msg.includes(text));
    t.false(said("requests still running at the shutdown deadline"), "no connection cut at the deadline");
    t.false(said("did not stop in time"), "no worker killed");
    for (const pid of pids) await waitFor(() => !alive(pid), { timeoutMs: 2000 });
    t.truthy(s.proc.logs.find((l) => l.msg === "stopped"));
    t.falsy(s.proc.logs.find((l) => typeof l.msg === "string" && l.msg.includes("starting another")), "no worker was replaced while stopping");
    await t.throwsAsync(fetch(`${s.url}/healthz`), undefined, "nothing listens any more");
  }
});

test("an agent's next request handed to the other worker before the primary read its change is still answered as known (the worker waits for the primary's fence first)", async (t) => {
  // The primary takes every worker message 300 ms late (in order) while node:cluster hands
  // connections over at once: each GetConfigList on a new connection that lands on the other
  // worker arrives before that worker heard of the agent.
  const s = await serveWorkers(t, [], { CONFIGSERVER_FAULT_PRIMARY_READ_DELAY_MS: "300" });
  const pids = new Set<number>();
  for (let i = 0; i < 6; i++) {
    await alphaAgent(s.url, `late-${i}`);
    const r = await configList(s.url, `late-${i}`, {});
    t.is(r.status, 200, `late-${i}: ${r.code}`);
    t.deepEqual(r.infos.map((c) => c.name), ["c1", "c2"]);
  }
  // Both workers answered (round robin), so some requests did cross.
  for (const w of await s.workers()) if (w.requests > 0) pids.add(w.pid);
  t.is(pids.size, 2);
});

test("with --registry redis://, a server with workers is one replica: its workers' agents are listed by another replica, and a write there reaches its workers' agents", async (t) => {
  const redis = await startRedis(t);
  const remote = bareRemote({
    "configs/c1.yaml": configYaml("c1", "inputs: [one]\n"),
    "agent_groups/prod.yaml": groupYaml("prod", ["c1"], [["env", "prod"]]),
  });
  const [a] = await startReplicas(t, remote.url, redis.url, 1, ["--workers", "2"]);
  const [b] = await startReplicas(t, remote.url, redis.url, 1);
  const A = a as Replica;
  const B = b as Replica;
  for (let i = 0; i < 4; i++) {
    await alphaAgent(A.url, `alpha-${i}`);
    t.is((await configList(A.url, `alpha-${i}`, {})).status, 200);
  }
  const v2 = new V2Agent(A.url, "v2-0", { env: "prod" });
  t.teardown(() => v2.cleanup());
  v2.headers = FRESH;
  t.is((await v2.cycle()).status, 200);
  // B reads the fleet from Redis: the primary of A wrote its workers' agents there.
  const listed = await waitFor(async () => {
    const l = await listAgents(B.url);
    return l.length === 5 ? l : undefined;
  }, { timeoutMs: 15_000 });
  t.deepEqual(listed.map((x) => x.agent_id), ["alpha-0", "alpha-1", "alpha-2", "alpha-3", "v2-0"]);
  t.deepEqual((await listAgents(A.url)).map((x) => x.agent_id), listed.map((x) => x.agent_id));
  // A write through B: announced, A's primary syncs and its workers serve it well before the 10-minute poll.
  const w = await B.api.updateConfig({ config_detail: { config_name: "c1", agent_type: "ilogtail", description: "", content: "inputs: [changed]\n" } });
  t.is(w.status, 200);
  await waitFor(async () => {
    const polls = await Promise.all(Array.from({ length: 4 }, () => configList(A.url, "alpha-0", { c1: 1 })));
    return polls.every((p) => p.infos.some((c) => c.name === "c1" && c.status === UpdateStatus.MODIFIED));
  }, { timeoutMs: 15_000 });
  const s = (await getJson<{ fleetView: { backend: string; shared: boolean }; workers: Worker[] }>(`${A.url}/status`)).body;
  t.like(s.fleetView, { backend: "redis", shared: true });
  t.is(s.workers.length, 2);
});
