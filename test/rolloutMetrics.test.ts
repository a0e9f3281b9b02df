// The rollout metrics (docs/rollouts.md, "Metrics"), black-box: the real server on a real git
// repository, replicated v2 agents cycling in rounds, /metrics scraped over HTTP between rounds.
import test, { type ExecutionContext } from "ava";
import { callJson, send } from "./helpers/client.ts";
import { Fleet } from "./helpers/fleet.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";

const policy = (onHalt: string) => `waves: [2, 6, 100%]\nbake: 1s\napplyTimeout: 30s\nonHalt: ${onHalt}\n`;

/** Every sample of /metrics whose series starts with `name{`, by its labels text. */
async function samples(url: string, name: string): Promise<Map<string, number>> {
  const text = (await send(url, "GET", "/metrics", "")).body.toString();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const end = line.lastIndexOf(" ");
    out.set(line.slice(name.length, end), Number(line.slice(end + 1)));
  }
  return out;
}

/** A series without labels (a histogram's _count, _sum). */
async function single(url: string, series: string): Promise<number | undefined> {
  const text = (await send(url, "GET", "/metrics", "")).body.toString();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function state(url: string): Promise<string | undefined> {
  const r = await callJson(url, "GET", "/api/v1/rollouts/app");
  return r.status === 200 ? (r.body as { state: string }).state : undefined;
}

async function setup(t: ExecutionContext, onHalt: string) {
  const repo = repoWith("cs-rollout-metrics-", { "rollout.yaml": policy(onHalt), "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 12, 0, 0);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  return { repo, server, fleet };
}

const APP = '{config="app",kind="pipeline"}';

test.serial("during a good rollout /metrics shows it progressing at each wave in turn, then completed with no wave left", async (t) => {
  const { repo, server, fleet } = await setup(t, "revert");
  const states = await samples(server.url, "configserver_rollouts");
  t.deepEqual([...states.entries()].sort(), [['{state="completed"}', 0], ['{state="halted"}', 0], ['{state="paused"}', 0], ['{state="progressing"}', 0], ['{state="reverted"}', 0]]);
  // Without a rollout in progress nothing is evaluated; a lone server decides its rollouts itself.
  t.is(await single(server.url, "configserver_rollout_evaluation_seconds_count"), 0);
  t.deepEqual((await callJson(server.url, "GET", "/status")).body.rollouts, { deciding: true });
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  const waves: number[] = [];
  await fleet.until("app", async () => {
    const wave = (await samples(server.url, "configserver_rollout_wave")).get(APP);
    if (wave !== undefined && waves[waves.length - 1] !== wave) {
      waves.push(wave);
      t.is((await samples(server.url, "configserver_rollouts")).get('{state="progressing"}'), 1, `progressing while at wave ${wave}`);
    }
    return (await state(server.url)) === "completed";
  });
  t.deepEqual(waves, [1, 2, 3], "each wave seen in order (each bakes a second)");
  t.true(((await single(server.url, "configserver_rollout_evaluation_seconds_count")) ?? 0) > 0, "the evaluations of the rollout were timed");
  const after = await samples(server.url, "configserver_rollouts");
  t.is(after.get('{state="completed"}'), 1);
  t.is(after.get('{state="progressing"}'), 0);
  t.false((await samples(server.url, "configserver_rollout_wave")).has(APP), "a completed rollout has no current wave");
});

test.serial("a halted rollout is counted halted, at wave 1, with its failed agents", async (t) => {
  const { repo, server, fleet } = await setup(t, "pause");
  for (const a of fleet.agents) fleet.failing.set(a.agent.instanceId, "");
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "bad: true\n") });
  await fleet.until("app", async () => (await state(server.url)) === "halted");
  const rollout = (await callJson(server.url, "GET", "/api/v1/rollouts/app")).body as { waves: { failed: number }[] };
  const failed = rollout.waves.reduce((n, w) => n + w.failed, 0);
  t.is(failed, 2, "the two agents of wave 1 failed");
  t.is((await samples(server.url, "configserver_rollout_failed_agents")).get(APP), failed);
  t.is((await samples(server.url, "configserver_rollout_wave")).get(APP), 1);
  const states = await samples(server.url, "configserver_rollouts");
  t.is(states.get('{state="halted"}'), 1);
  t.is(states.get('{state="progressing"}'), 0);
});
