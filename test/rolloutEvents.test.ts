// The rollout events of --notify-url (docs/rollouts.md, "Events"), black-box: the real server on a
// real git repository, replicated v2 agents cycling in rounds, and a real HTTP receiver on
// 127.0.0.1 that checks each body's HMAC-SHA256 signature.
import { createHmac } from "node:crypto";
import test, { type ExecutionContext } from "ava";
import { callJson } from "./helpers/client.ts";
import { Fleet } from "./helpers/fleet.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { receiver, type Received } from "./helpers/receiver.ts";
import { waitFor, withServer } from "./helpers/server.ts";

const SECRET = "r0llout-ev3nts-S3CRET";
const fast = { baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 5000 };
const policy = (onHalt: string) => `waves: [2, 6, 100%]\nbake: 300ms\napplyTimeout: 30s\nonHalt: ${onHalt}\n`;

const signed = (g: Received) => g.headers["x-hub-signature-256"] === `sha256=${createHmac("sha256", SECRET).update(g.raw).digest("hex")}`;

async function state(url: string): Promise<string | undefined> {
  const r = await callJson(url, "GET", "/api/v1/rollouts/app");
  return r.status === 200 ? (r.body as { state: string }).state : undefined;
}

async function setup(t: ExecutionContext, onHalt: string) {
  const repo = repoWith("cs-rollout-events-", { "rollout.yaml": policy(onHalt), "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const r = await receiver(t);
  const server = await withServer(t, { repo, notifyUrl: [`${r.url}/hook`], notifySecret: SECRET, notifyTuning: fast });
  const fleet = new Fleet(server.url, 12, 0, 0);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  return { repo, r, server, fleet };
}

test.serial("a good change in waves is announced started, each wave advanced, completed, in order and signed", async (t) => {
  const { repo, r, server, fleet } = await setup(t, "revert");
  t.is(r.got.length, 0, "the first commit is no rollout");
  const commit = commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  await fleet.until("app", async () => (await state(server.url)) === "completed");
  await waitFor(() => r.got.some((g) => g.json.type === "rollout.completed"));
  t.deepEqual(r.got.map((g) => [g.json.type, g.json.wave ?? null]), [["rollout.started", null], ["rollout.wave_advanced", 2], ["rollout.wave_advanced", 3], ["rollout.completed", null]]);
  for (const g of r.got) {
    t.true(signed(g), `${String(g.json.type)} is signed`);
    t.is(g.headers["x-configserver-event"], g.json.type as string);
    t.is(g.json.name, "app");
    t.is((g.json.to as { commit: string }).commit, commit);
    t.is(g.json.waves, 3);
  }
  t.regex(r.got[0]?.json.text as string, /^Rollout of config app started: version \d+ \(commit [0-9a-f]{12}\) in 3 waves/);
  t.regex(r.got[3]?.json.text as string, /^Rollout of config app completed: .* reached every agent \(3 waves\)\.$/);
});

test.serial("a bad change (v2 agents report FAILED without a message) is announced started, halted with its failures naming the agents, reverted with the revert commit", async (t) => {
  const { repo, r, server, fleet } = await setup(t, "revert");
  for (const a of fleet.agents) fleet.failing.set(a.agent.instanceId, "");
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "bad: true\n") });
  await fleet.until("app", async () => (await state(server.url)) === "reverted");
  await waitFor(() => r.got.some((g) => g.json.type === "rollout.reverted"));
  t.deepEqual(r.got.map((g) => g.json.type), ["rollout.started", "rollout.halted", "rollout.reverted"]);
  for (const g of r.got) t.true(signed(g), `${String(g.json.type)} is signed`);

  const rollout = (await callJson(server.url, "GET", "/api/v1/rollouts/app")).body as { failures: { agents: string[] }[]; revertCommit: string };
  const halted = r.got[1]?.json as { wave: number; onHalt: string; reason: string; failures: { message: string; reason: string; count: number; agents: string[] }[]; text: string };
  t.is(halted.wave, 1);
  t.is(halted.onHalt, "revert");
  t.regex(halted.reason, /halted at wave 1 of 3/);
  const failed = halted.failures.flatMap((f) => f.agents).sort();
  t.is(failed.length, 2, "the two agents of wave 1 failed");
  t.deepEqual(failed, rollout.failures.flatMap((f) => f.agents).sort());
  t.deepEqual(halted.failures.map((f) => f.message), [""]);
  // Without a message, the text still says who failed and where to look.
  t.regex(halted.text, /^Rollout of config app halted at wave 1, .* 2 agents failed; reverting to version \d+\.\n- 2 agents: reported FAILED without a message \(the agent gives no reason: look at the agent's own log on its host\)/);
  for (const id of failed) t.true(halted.text.includes(id), `the text names ${id}`);

  const reverted = r.got[2]?.json as { revertCommit: string; wave: number; text: string };
  t.is(reverted.revertCommit, git(repo, "rev-parse", "HEAD").trim(), "the revert commit is the branch's head");
  t.is(reverted.revertCommit, rollout.revertCommit);
  t.is(reverted.wave, 1);
  t.regex(git(repo, "log", "-1", "--format=%B", reverted.revertCommit), /^Revert config app to version \d+/);
  t.regex(reverted.text, new RegExp(`^Rollout of config app reverted at wave 1: commit ${reverted.revertCommit.slice(0, 12)} puts back version \\d+`));
});

test.serial("read-only: the halted event says the revert is pending (the previous version is served to everyone, the server cannot commit), and no reverted event follows", async (t) => {
  const repo = repoWith("cs-rollout-events-ro-", { "rollout.yaml": policy("revert"), "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const r = await receiver(t);
  const server = await withServer(t, { repo, readOnly: true, notifyUrl: [`${r.url}/hook`], notifySecret: SECRET, notifyTuning: fast });
  const fleet = new Fleet(server.url, 12, 0, 0);
  t.teardown(() => fleet.cleanup());
  await fleet.until("app", () => fleet.agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(fleet.agents[0]!, "app");
  for (const a of fleet.agents) fleet.failing.set(a.agent.instanceId, "");
  const bad = commitFiles(repo, { "configs/app.yaml": configYaml("app", "bad: true\n") });
  await fleet.until("app", async () => (await state(server.url)) === "halted" && fleet.agents.every((a) => fleet.held(a, "app") === v1));
  const halted = (await waitFor(() => r.got.find((g) => g.json.type === "rollout.halted"))).json as { onHalt: string; revertPending: string; text: string };
  t.is(halted.onHalt, "revert");
  t.regex(halted.revertPending, /^revert pending: read-only/);
  t.regex(halted.text, new RegExp(`2 agents failed; revert pending: version ${v1} is served to every agent again, but the server cannot commit the revert \\(read-only\\): commit it to the repository\\.`));
  t.notRegex(halted.text, /reverting/);
  t.is(git(repo, "rev-parse", "HEAD").trim(), bad, "no commit made");
  t.deepEqual(r.got.map((g) => g.json.type), ["rollout.started", "rollout.halted"]);
});
