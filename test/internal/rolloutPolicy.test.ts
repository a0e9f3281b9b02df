// Reads internals: the rollout policy the running server parsed onto its served snapshot
// (`server.store.state.rollout`, a config's and a group's parsed `rollout`/`hostnames`). No HTTP
// route shows a parsed policy, so these checks look at the snapshot itself; everything else about
// rollout policies and selectors is observed from outside in test/rollouts.test.ts.
import test from "ava";
import { SELECTOR_REPO } from "../helpers/selectorRepo.ts";
import { runCli } from "../helpers/cli.ts";
import { git } from "../helpers/git.ts";
import { commitFiles, configYaml, repoWith } from "../helpers/repo.ts";
import { problemAt } from "../helpers/observe.ts";
import { waitFor, withServer } from "../helpers/server.ts";
import { V2Agent } from "../helpers/v2Agent.ts";

const at = problemAt;

test("a good rollout.yaml is on the served snapshot; a malformed one on top is refused and the last good commit stays served", async (t) => {
  const dir = repoWith("cs-rollout-good-", {
    "configs/ok.yaml": configYaml("ok", "a: 1\n"),
    "configs/own.yaml": `${configYaml("own", "a: 1\n")}rollout:\n  waves: [{tags: {env: staging}}, 50%]\n  onHalt: revert\n`,
    "rollout.yaml": "# the repository's default\nwaves: [1%, 10%, 50%, 100%]\nbake: 1s\napplyTimeout: 30s\nhalt: {failed: 1}\nonHalt: pause\n",
  });
  const validate = await runCli(["validate", dir]);
  t.is(validate.code, 0, validate.stdout);
  const server = await withServer(t, { repo: dir });
  const good = server.store.state;
  t.is(server.store.refused, undefined);
  t.like(good.rollout, { bakeMs: 1000, applyTimeoutMs: 30_000, halt: { failed: 1 }, onHalt: "pause", source: "rollout.yaml" });
  t.deepEqual(good.rollout?.waves.map((w) => w.text), ["1%", "10%", "50%", "100%"]);
  t.like(good.configs.get("own")?.rollout, { onHalt: "revert", source: "configs/own.yaml" });
  t.deepEqual(good.configs.get("own")?.rollout?.waves.map((w) => w.text), ["tags env=staging", "50%", "everyone else"]);
  t.is(good.configs.get("ok")?.rollout, undefined);

  // A change to rollout.yaml alone is picked up by a reload (it is a state file now).
  commitFiles(dir, { "rollout.yaml": "waves: [5%]\n" }, "smaller canary");
  await waitFor(() => server.store.state.rollout?.waves[0]?.text === "5%");
  const served = server.store.state.commit;
  // A malformed policy is refused like any other problem.
  const bad = commitFiles(dir, { "rollout.yaml": "waves: [5%]\napplyTimeout: 0s\n" }, "bad policy");
  const refused = await waitFor(() => (server.store.refused?.commit === bad ? server.store.refused : undefined));
  t.deepEqual(refused.problems.map((p) => `${at(p)} ${p.message}`), ["rollout.yaml:2:15 applyTimeout must be longer than 0: agents need some time to apply a config"]);
  t.is(server.store.state.commit, served);
  // Deleting the file: no policy, changes go to everyone at once.
  git(dir, "rm", "-q", "rollout.yaml");
  git(dir, "commit", "-q", "-m", "no rollouts");
  await waitFor(() => server.store.state.rollout === undefined && server.store.refused === undefined);
  t.pass();
});




test("writes through the User API keep a group's ips/hostnames and a config's rollout: as the files say", async (t) => {
  const dir = repoWith("cs-sel-api-", {
    ...SELECTOR_REPO,
    "configs/own.yaml": `${configYaml("own", "a: 1\n")}rollout:\n  waves: [10%] # canary first\n`,
  });
  const server = await withServer(t, { repo: dir });
  const group = await server.api.updateGroup({ agent_group: { group_name: "web", description: "web hosts", tags: [{ name: "tier", value: "1" }] } });
  t.is(group.status, 200);
  const config = await server.api.updateConfig({ config_detail: { config_name: "own", agent_type: "ilogtail", content: "a: 2\n" } });
  t.is(config.status, 200);
  const show = (path: string) => git(dir, "show", `HEAD:${path}`);
  t.regex(show("agent_groups/web.yaml"), /hostnames:\n\s*- web-\*\n\s*- "?\*\.prod\.example\.com"?/);
  t.regex(show("agent_groups/web.yaml"), /description: web hosts/);
  t.regex(show("configs/own.yaml"), /rollout:\n {2}waves: \[ ?10% ?\] # canary first/);
  t.deepEqual(server.store.state.groups.get("web")?.hostnames, ["web-*", "*.prod.example.com"]);
  t.deepEqual(server.store.state.configs.get("own")?.rollout?.waves.map((w) => w.text), ["10%", "everyone else"]);
  // And the group still selects by host name.
  const a = new V2Agent(server.url, "w1", {});
  a.hostname = "web-1";
  await a.cycle();
  t.true(a.pipelines.has("web"));
});
