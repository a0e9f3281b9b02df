// Rollouts with `configserver serve --workers 2` (the real process, as an operator runs it): the
// primary decides, and its workers, which answer every agent, serve each agent by its wave.
// Replicated v2 agents on fresh connections, so their requests land on both workers.
import test, { type ExecutionContext } from "ava";
import { Fleet } from "./helpers/fleet.ts";
import { personEnv } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { getJson } from "./helpers/replicas.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor } from "./helpers/server.ts";

interface RolloutJson { state: string; wave: number; waves: { targeted: number; applied: number }[]; history: { action: string; detail: string | null }[] }

/** `serve --workers 2` on a repository holding `files`, once both workers serve. */
async function workers(t: ExecutionContext, files: Record<string, string>) {
  const repo = repoWith("cs-rollout-workers-", { "rollout.yaml": "waves: [2, 6, 100%]\nbake: 1s\napplyTimeout: 60s\nonHalt: pause\n", "configs/app.yaml": configYaml("app", "a: 1\n"), ...files });
  const proc = serveProcess(["--repo", repo, "--port", "0", "--workers", "2", "--log-level", "info"], { GIT_CONFIG_NOSYSTEM: personEnv.GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL: "/dev/null" });
  t.teardown(async () => {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGTERM");
    await proc.exited;
  });
  const url = await proc.url();
  await waitFor(async () => (await getJson<{ workers: { state: string }[] }>(`${url}/status`)).body.workers.filter((w) => w.state === "serving").length === 2);
  const rollout = async () => {
    const r = await getJson<RolloutJson>(`${url}/api/v1/rollouts/app`);
    return r.status === 200 ? r.body : undefined;
  };
  return { repo, proc, url, rollout };
}

test("with --workers 2 a change reaches the agents wave by wave: no agent gets it before its wave, whichever worker answers", async (t) => {
  const { repo, proc, url, rollout } = await workers(t, { "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const fleet = new Fleet(url, 12, 0, 0);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(fleet.agents[0]!, "app");

  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  // While wave 1 bakes, its two agents hold the new version and nobody else does.
  let atWave1 = 0;
  await fleet.until("app", async () => {
    const r = await rollout();
    const holding = fleet.agents.filter((a) => fleet.held(a, "app") > v1).length;
    if (r?.state === "progressing" && r.wave === 1) {
      t.true(holding <= 2, `${holding} agents hold the new version at wave 1`);
      if (holding === 2) atWave1++;
    }
    return r?.state === "completed" && fleet.agents.every((a) => fleet.held(a, "app") > v1);
  });
  t.true(atWave1 > 0, "wave 1 was seen with its two agents holding the new version");
  const done = (await rollout()) as RolloutJson;
  t.deepEqual(done.history.filter((e) => e.action === "advanced").map((e) => e.detail?.match(/to wave (\d)/)?.[1]), ["2", "3"]);
  t.deepEqual(done.waves.map((w) => w.targeted), [2, 4, 6]);
  for (const a of fleet.agents) t.deepEqual(fleet.versionsSeen(a.agent.instanceId, "app"), [v1, v1 + 1], a.agent.instanceId);
  t.false(proc.logs.some((l) => /do not serve by wave/.test(String(l.msg))), "no warning that workers ignore the waves");
});

test("with --workers 2 a config bound to a second group reaches that group's agents wave by wave; the first group's agents see no change", async (t) => {
  const { repo, url, rollout } = await workers(t, { "agent_groups/a.yaml": groupYaml("a", ["app"], [["env", "a"]]), "agent_groups/b.yaml": groupYaml("b", [], [["env", "b"]]) });
  const a = new Fleet(url, 6, 0, 0, { env: "a" }, "a-");
  const b = new Fleet(url, 12, 0, 0, { env: "b" }, "b-");
  const groupA = [...a.agents];
  const fleet = a.join(b);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => groupA.every((x) => fleet.held(x, "app") > 0));
  const v1 = fleet.held(groupA[0]!, "app");

  commitFiles(repo, { "agent_groups/b.yaml": groupYaml("b", ["app"], [["env", "b"]]) });
  let atWave1 = 0;
  await fleet.until("app", async () => {
    const r = await rollout();
    const holding = b.agents.filter((x) => fleet.held(x, "app") > 0).length;
    if (r?.state === "progressing" && r.wave === 1) {
      t.true(holding <= 2, `${holding} agents of group b hold app at wave 1`);
      if (holding === 2) atWave1++;
    }
    return r?.state === "completed" && b.agents.every((x) => fleet.held(x, "app") === v1);
  });
  t.true(atWave1 > 0, "wave 1 was seen with two agents of group b holding app");
  t.deepEqual(((await rollout()) as RolloutJson).waves.map((w) => w.targeted), [2, 4, 6], "group b's agents only");
  for (const x of b.agents) t.deepEqual(fleet.versionsSeen(x.agent.instanceId, "app"), [0, v1], x.agent.instanceId);
  for (const x of groupA) t.deepEqual(fleet.versionsSeen(x.agent.instanceId, "app"), [v1], x.agent.instanceId);
});
