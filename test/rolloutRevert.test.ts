// Black-box tests of the revert commit for every kind of rollout (a removal, a new config, an
// instance config) and of going back, which is never staged (a rollback to a version older than
// the last completed one): the real server on a real git repository, replicated v2 agents
// (LoongCollector's provider), v1 and alpha agents cycling in rounds. Waves are checked against the
// documented bucket (FNV-1a of `instance id NUL config name` mod 10,000).
import test from "ava";
import { callJson, send } from "./helpers/client.ts";
import { Fleet } from "./helpers/fleet.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, instanceYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import type { RolloutJson } from "./helpers/rollouts.ts";
import { V2Agent } from "./helpers/v2Agent.ts";


function bucket(id: string, name: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(`${id}\0${name}`, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h % 10_000;
}
/** In wave 1 of waves [20%, 100%]. */
const inWave1 = (id: string, name: string) => bucket(id, name) < 2000;

// A long bake: every rollout here stands at wave 1 until it is halted, aborted or rolled back.
const POLICY = "waves: [20%, 100%]\nbake: 5m\napplyTimeout: 5m\nonHalt: revert\n";

async function rollout(url: string, name: string): Promise<RolloutJson | undefined> {
  const r = await callJson(url, "GET", `/api/v1/rollouts/${name}`);
  return r.status === 200 ? (r.body as unknown as RolloutJson) : undefined;
}

const show = (repo: string, spec: string) => git(repo, "show", spec);
const lastCommit = (repo: string) => git(repo, "log", "-1", "--format=%H%n%an%n%B", "main");

test.serial("a halted removal is reverted by a commit that restores the file byte for byte and its group bindings; agents that kept the config are sent nothing", async (t) => {
  // A hand-written file (a comment, a key order of its own): the revert must put back these bytes, not a rendering.
  const appFile = `# owned by team logs\nconfig_name: app\ndescription: "nginx access"\nagent_type: ilogtail\ncontent: "a: 1\\n"\n`;
  const repo = repoWith("cs-revert-removal-", { "rollout.yaml": POLICY, "configs/app.yaml": appFile, "agent_groups/default.yaml": groupYaml("default", ["app"]), "agent_groups/web.yaml": groupYaml("web", ["app"], [["role", "web"]]) });
  const groupsBefore = { default: show(repo, "HEAD:agent_groups/default.yaml") };
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 40, 5, 5);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  const wave1 = agents.filter((a) => inWave1(a.agent.instanceId, "app"));
  t.true(wave1.length > 0 && wave1.length < agents.length);
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  fleet.deliveries.clear();

  // The removal (validation requires its bindings to go with it; one group goes as a whole).
  git(repo, "rm", "-q", "configs/app.yaml", "agent_groups/web.yaml");
  const removal = commitFiles(repo, { "agent_groups/default.yaml": groupYaml("default", []) });
  await fleet.until("app", () => wave1.every((a) => fleet.held(a, "app") === 0));
  t.true(agents.every((a) => inWave1(a.agent.instanceId, "app") || fleet.held(a, "app") === v1), "outside wave 1 the config stays");
  const aborted = await send(server.url, "POST", "/api/v1/rollouts/app/abort", "{}", { "content-type": "application/json", "x-configserver-author": "Ops Person <ops@example.com>" });
  t.is(aborted.status, 200, Buffer.from(aborted.body).toString("utf8"));

  await fleet.until("app", async () => (await rollout(server.url, "app"))?.state === "reverted" && agents.every((a) => fleet.held(a, "app") === v1));
  const r = (await rollout(server.url, "app")) as RolloutJson;
  t.is(r.revertPending, null, "committed, not pending");
  t.truthy(r.revertCommit);
  const [head, author, ...message] = lastCommit(repo).split("\n");
  t.is(head, r.revertCommit as string);
  t.is(git(repo, "rev-parse", "main~1").trim(), removal, "one commit on top of the removal");
  t.notRegex(author as string, /person/i, "made by the server's identity");
  const body = message.join("\n");
  t.regex(body, /^Revert config app to version \d+: rollout of its removal halted at wave 1/);
  t.regex(body, /aborted by Ops Person <ops@example\.com>/);
  t.regex(body, /Rollout of config app: version \d+ \(commit [0-9a-f]{12}\) to its removal \(commit [0-9a-f]{12}\)\./);
  t.regex(body, /Restores configs\/app\.yaml as at commit [0-9a-f]{12} and its binding in agent group\(s\) default, web\./);
  t.is(show(repo, "main:configs/app.yaml"), appFile, "the file exactly as it was");
  // The bindings as they were: the same groups with the same fields (the YAML may be laid out anew).
  t.is(show(repo, "main:agent_groups/default.yaml").replace(/configs:\n {2}- app\n/, 'configs: ["app"]\n'), groupsBefore.default, "the binding back in the group that had it");
  t.regex(show(repo, "main:agent_groups/web.yaml"), /group_name: web[\s\S]*role[\s\S]*configs:[\s\S]*app/, "a group deleted with the config comes back with its binding");
  t.is(git(repo, "status", "--porcelain"), "");

  // Wave 1 got the config back at its old version; nobody else was sent anything at all.
  for (const a of wave1) t.deepEqual(fleet.versionsSeen(a.agent.instanceId, "app"), [v1, 0, v1], a.agent.instanceId);
  for (const a of agents) {
    if (inWave1(a.agent.instanceId, "app")) continue;
    t.is(fleet.deliveries.get(a.agent.instanceId) ?? 0, 0, `${a.agent.instanceId} was sent nothing`);
    t.deepEqual(fleet.versionsSeen(a.agent.instanceId, "app"), [v1]);
  }
});

test.serial("a halted new config is reverted by a commit that deletes it and removes its bindings; agents outside wave 1 never receive it", async (t) => {
  const repo = repoWith("cs-revert-new-", { "rollout.yaml": POLICY, "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 40, 5, 5);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const wave1 = agents.filter((a) => inWave1(a.agent.instanceId, "fresh"));
  const failing = wave1.filter((a) => a.kind === "v2");
  t.true(failing.length > 0 && wave1.length < agents.length);
  for (const a of failing) fleet.failing.set(a.agent.instanceId, "");
  const appFile = show(repo, "HEAD:configs/app.yaml");
  fleet.deliveries.clear();

  commitFiles(repo, { "configs/fresh.yaml": configYaml("fresh", "bad: true\n"), "agent_groups/default.yaml": groupYaml("default", ["app", "fresh"]) });
  await fleet.until("fresh", async () => (await rollout(server.url, "fresh"))?.state === "reverted" && agents.every((a) => fleet.held(a, "fresh") === 0));
  const r = (await rollout(server.url, "fresh")) as RolloutJson;
  t.is(r.from, null);
  t.is(r.revertPending, null);
  const [head, , ...message] = lastCommit(repo).split("\n");
  t.is(head, r.revertCommit as string);
  const body = message.join("\n");
  t.regex(body, /^Revert config fresh: delete it \(a new config\): rollout of version \d+ halted at wave 1/);
  t.regex(body, /Rollout of config fresh: none \(a new config\) to version \d+/);
  t.regex(body, /reported FAILED without a message \(the agent gives no reason: look at the agent's own log on its host\)/);
  for (const a of failing) t.true(body.includes(a.agent.instanceId), `the message names ${a.agent.instanceId}`);
  t.regex(body, /Deletes configs\/fresh\.yaml and its binding in agent group\(s\) default/);
  t.notRegex(git(repo, "ls-tree", "--name-only", "main", "configs/"), /fresh/, "the file is gone");
  t.notRegex(show(repo, "main:agent_groups/default.yaml"), /fresh/, "its binding is gone");
  t.regex(show(repo, "main:agent_groups/default.yaml"), /app/);
  t.is(show(repo, "main:configs/app.yaml"), appFile, "the other config untouched");

  // Only wave 1 ever had it; the others were sent nothing for it.
  for (const a of agents) {
    const seen = fleet.versionsSeen(a.agent.instanceId, "fresh");
    if (inWave1(a.agent.instanceId, "fresh")) t.is(seen.filter((v) => v > 0).length, 1, `${a.agent.instanceId}: ${seen.join(",")}`);
    else {
      t.deepEqual(seen, [0], a.agent.instanceId);
      t.is(fleet.deliveries.get(a.agent.instanceId) ?? 0, 0, `${a.agent.instanceId} was sent nothing`);
    }
  }
});

test.serial("a halted instance config is reverted by a commit restoring instance_configs/<name>.yaml byte for byte; agents outside wave 1 are sent nothing", async (t) => {
  const instFile = `# the agent process's own settings\nconfig_name: inst\ndescription: ""\ncontent: "a: 1\\n"\n`;
  const repo = repoWith("cs-revert-instance-", { "rollout.yaml": POLICY, "instance_configs/inst.yaml": instFile, "agent_groups/default.yaml": groupYaml("default", [], [], ["inst"]) });
  const server = await withServer(t, { repo });
  const agents = Array.from({ length: 40 }, (_, i) => new V2Agent(server.url, `v2-agent-${i}`, {}));
  t.teardown(() => agents.forEach((a) => a.cleanup()));
  const sent = new Map<string, number[]>();
  const round = async () => {
    await Promise.all(agents.map(async (a) => {
      const got = (await a.cycle()).instanceUpdates.filter((u) => u.name === "inst");
      if (got.length > 0) sent.set(a.instanceId, [...(sent.get(a.instanceId) ?? []), ...got.map((u) => u.version)]);
      a.load((name, json) => (name === "inst" && json.bad === true && inWave1(a.instanceId, "inst") ? "" : undefined));
    }));
  };
  const until = async (done: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      await round();
      if (await done()) return;
      if (Date.now() > deadline) throw new Error("condition not met within 60 s");
    }
  };
  const held = (a: V2Agent) => a.instances.get("inst")?.version ?? 0;
  await until(() => agents.every((a) => held(a) > 0));
  const v1 = held(agents[0]!);
  const wave1 = agents.filter((a) => inWave1(a.instanceId, "inst"));
  t.true(wave1.length > 0 && wave1.length < agents.length);
  sent.clear();

  commitFiles(repo, { "instance_configs/inst.yaml": instanceYaml("inst", "bad: true\n") });
  await until(async () => (await rollout(server.url, "inst"))?.state === "reverted" && agents.every((a) => held(a) === v1));
  const r = (await rollout(server.url, "inst")) as RolloutJson;
  t.is(r.revertPending, null, "committed, not pending");
  const [head, , ...message] = lastCommit(repo).split("\n");
  t.is(head, r.revertCommit as string);
  t.regex(message.join("\n"), /^Revert instance config inst to version \d+: rollout of version \d+ halted at wave 1/);
  t.is(show(repo, "main:instance_configs/inst.yaml"), instFile, "the file exactly as it was");
  for (const a of wave1) {
    t.deepEqual(sent.get(a.instanceId)?.filter((v) => v !== v1).length, 1, `${a.instanceId}: the bad version, then the previous one back`);
    t.is(a.instanceFile("inst").a, 1);
  }
  for (const a of agents) if (!inWave1(a.instanceId, "inst")) t.is(sent.get(a.instanceId), undefined, `${a.instanceId} was sent nothing`);
});

test.serial("a rollback to a version older than the last completed one reaches every agent at once, ending the rollout at wave 1; a person's commit with a Rollback trailer too", async (t) => {
  // Versions 1 and 2 reach everyone (no policy yet); then the policy, then version 3 rolls out in waves.
  const repo = repoWith("cs-rollback-unstaged-", { "configs/app.yaml": configYaml("app", "a: 1\n"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const server = await withServer(t, { repo });
  const fleet = new Fleet(server.url, 40, 5, 5);
  t.teardown(() => fleet.cleanup());
  const agents = fleet.agents;
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > 0));
  const v1 = fleet.held(agents[0]!, "app");
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") });
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > v1));
  const v2 = fleet.held(agents[0]!, "app");
  commitFiles(repo, { "rollout.yaml": POLICY });
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 3\n") });
  const wave1 = agents.filter((a) => inWave1(a.agent.instanceId, "app"));
  const later = agents.filter((a) => !inWave1(a.agent.instanceId, "app"));
  await fleet.until("app", () => wave1.every((a) => fleet.held(a, "app") > v2));
  const r3 = (await rollout(server.url, "app")) as RolloutJson;
  t.is(r3.state, "progressing");
  t.is(r3.wave, 1);
  t.is(r3.from?.version, v2);
  t.true(later.every((a) => fleet.held(a, "app") === v2), "version 3 is at wave 1 only");

  // The API's rollback to version 1 (older than version 2, the last completed one).
  const res = await send(server.url, "POST", "/api/v1/configs/app/rollback", JSON.stringify({ version: v1 }), { "content-type": "application/json" });
  t.is(res.status, 200, Buffer.from(res.body).toString("utf8"));
  const rolled = JSON.parse(Buffer.from(res.body).toString("utf8")) as { commit: string; version: number };
  t.regex(git(repo, "log", "-1", "--format=%B", rolled.commit), new RegExp(`\\n\\nRollback: configs/app\\.yaml to version ${v1}\\s*$`), "the commit says it is a rollback");
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") === rolled.version));
  for (const a of agents) t.is(fleet.held(a, "app"), rolled.version, a.agent.instanceId);
  for (const a of fleet.agents.filter((x) => x.kind === "v2")) t.is((a.agent as V2Agent).pipelineFile("app").a, 1);
  const ended = (await rollout(server.url, "app")) as RolloutJson;
  t.is(ended.state, "completed");
  t.is(ended.to.version, r3.to.version, "no rollout of the rollback was started");
  t.regex(ended.history.at(-1)?.detail ?? "", new RegExp(`^rolled back by commit ${rolled.commit.slice(0, 12)}`));

  // A person's commit marked as a rollback (as in a pull request): not staged either.
  commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 4\n") });
  await fleet.until("app", async () => (await rollout(server.url, "app"))?.state === "progressing" && wave1.every((a) => fleet.held(a, "app") > rolled.version));
  t.true(later.every((a) => fleet.held(a, "app") === rolled.version), "version 4 is at wave 1 only");
  const byHand = commitFiles(repo, { "configs/app.yaml": configYaml("app", "a: 2\n") }, "Go back to a: 2\n\nRollback: configs/app.yaml");
  await fleet.until("app", () => agents.every((a) => fleet.held(a, "app") > rolled.version + 1));
  const last = (await rollout(server.url, "app")) as RolloutJson;
  t.is(last.state, "completed");
  t.regex(last.history.at(-1)?.detail ?? "", new RegExp(`^rolled back by commit ${byHand.slice(0, 12)}`));
  const vHand = fleet.held(agents[0]!, "app");
  t.true(agents.every((a) => fleet.held(a, "app") === vHand));
});
