// Black-box tests of rollouts served by waves: the real server on a real git repository, a fleet of
// agents speaking v2 (LoongCollector's provider, replicated), v1 and alpha, cycling in rounds.
// Waves are checked against the documented bucket (FNV-1a of `instance id NUL config name` mod 10,000).
import test, { type ExecutionContext } from "ava";
import { callJson } from "./helpers/client.ts";
import { Fleet } from "./helpers/fleet.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";

interface WaveJson { wave: number; text: string; targeted: number; applied: number; applying: number; failed: number; notReported: number }
interface RolloutJson {
  config: string;
  state: string;
  wave: number;
  mode: string;
  from: { version: number; commit: string } | null;
  to: { version: number; commit: string };
  waves: WaveJson[];
  failures: { kind: string; message: string; reason: string; count: number; agents: string[] }[];
  haltReason: string | null;
  revertCommit: string | null;
  revertPending: string | null;
  startedAt: string;
  history: { at: string; who: string; action: string; detail: string | null }[];
}

function bucket(id: string, name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(`${id}\0${name}`, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % 10_000;
}
/** The wave of an agent for waves [2%, 20%, 100%]. */
const waveOf = (id: string, name = "app") => (bucket(id, name) < 200 ? 1 : bucket(id, name) < 2000 ? 2 : 3);

const POLICY = (onHalt: "revert" | "pause", bake = "1s", applyTimeout = "5s") => `waves: [2%, 20%, 100%]\nbake: ${bake}\napplyTimeout: ${applyTimeout}\nonHalt: ${onHalt}\n`;

async function rollout(url: string, name = "app"): Promise<RolloutJson | undefined> {
  const r = await callJson(url, "GET", `/api/v1/rollouts/${name}`);
  return r.status === 200 ? (r.body as unknown as RolloutJson) : undefined;
}

function setup(t: ExecutionContext, policy: string, fleetSize: [number, number, number]) {
  const repo = repoWith("cs-rollout-serve-", { "rollout.yaml": policy, "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  t.teardown(() => undefined);
  return { repo, sizes: fleetSize };
}

test("a good change reaches every agent wave by wave, never before its wave, and the API counts match what agents hold", async (t) => {
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
    const r = await rollout(server.url);
    const holding = agents.filter((a) => fleet.held(a, "app") === v2);
    if (r?.wave === 1 && holding.length === inWave(1).length && r.waves[0]?.applied === holding.length) observed = r;
    return observed !== undefined || (r?.wave ?? 1) > 1;
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
