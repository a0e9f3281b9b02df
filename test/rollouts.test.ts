// Black-box tests of the rollout policy's validation and of group ips/hostnames selectors: the real
// CLI (`configserver validate`), the real server on a real git repository, and agents that speak
// each protocol as the real ones do (v2 and v1 replicas, alpha requests). How the served snapshot
// reads a rollout policy (no HTTP route shows it) is in test/internal/rolloutPolicy.test.ts.
import test from "ava";
import { SELECTOR_REPO } from "./helpers/selectorRepo.ts";
import { runCli } from "./helpers/cli.ts";
import { callJson, pb } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { configYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { V1Agent } from "./helpers/v1Agent.ts";
import { V2Agent } from "./helpers/v2Agent.ts";
import { problemAt, servedCommit, statusOf, type Problem } from "./helpers/observe.ts";

const at = problemAt;

const malformed = {
  "configs/ok.yaml": configYaml("ok", "a: 1\n"),
  "rollout.yaml": "waves: [1%, 10%, 5%]\nbake: 10\nonHalt: stop\n",
  "configs/own.yaml": `${configYaml("own", "a: 1\n")}rollout:\n  waves: [25, {ips: [10.1.2.3/16]}]\n  halt: {failedPercent: 500}\n`,
  "agent_groups/lan.yaml": "group_name: lan\nips:\n  - 10.0.0.9-10.0.0.1\nhostnames: ['web 1']\nconfigs: [ok]\n",
};
const expected: [string, RegExp][] = [
  ["agent_groups/lan.yaml:3:5", /"10\.0\.0\.9-10\.0\.0\.1" is not an IP selector: the range ends before it starts/],
  ["agent_groups/lan.yaml:4:13", /"web 1" is not a host name pattern/],
  ["configs/own.yaml:6:22", /"10\.1\.2\.3\/16" is not an IP selector: bits are set after the \/16 prefix \(did you mean 10\.1\.0\.0\/16\?\)/],
  ["configs/own.yaml:7:25", /halt failedPercent is a number above 0 and at most 100/],
  ["rollout.yaml:1:18", /waves are cumulative: 5% after 10% adds no agent/],
  ["rollout.yaml:2:7", /bake must be a duration with a unit/],
  ["rollout.yaml:3:9", /onHalt must be revert .* or pause .*, got "stop"/],
];

test("validate refuses a malformed rollout policy and malformed group selectors with file:line:column; the server refuses the same commit", async (t) => {
  const dir = repoWith("cs-rollout-bad-", malformed);
  const json = await runCli(["validate", "--format", "json", dir]);
  t.is(json.code, 1, json.stderr);
  const report = JSON.parse(json.stdout) as { ok: boolean; problems: Problem[] };
  t.deepEqual(report.problems.map(at), expected.map(([where]) => where));
  expected.forEach(([, pattern], i) => t.regex(report.problems[i]?.message ?? "", pattern));
  // The text format, as a person reads it.
  const text = await runCli(["validate", dir]);
  t.is(text.code, 1);
  t.regex(text.stdout, /rollout\.yaml:2:7: error: bake must be a duration/);

  // Served over HTTP: the commit is refused with the same problems, and nothing of it is served.
  const server = await withServer(t, { repo: dir });
  const status = await waitFor(async () => {
    const r = await callJson(server.url, "GET", "/status");
    return (r.body as { refused?: unknown }).refused ? r : undefined;
  });
  const refused = (status.body as { refused: { problems: Problem[] } }).refused;
  t.deepEqual(refused.problems, report.problems);
  t.is((await statusOf(server.url)).configs, 0);
  t.is(await servedCommit(server.url), "", "nothing of the refused commit is served (so no rollout policy either)");
});


test("group ips and hostnames select v2 agents by the ip and hostname attributes they report", async (t) => {
  const server = await withServer(t, { repo: repoWith("cs-sel-v2-", SELECTOR_REPO) });
  const agent = (id: string, ip: string, hostname: string, tags: Record<string, string> = {}) => {
    const a = new V2Agent(server.url, id, tags);
    a.ip = ip;
    a.hostname = hostname;
    return a;
  };
  const cases: [V2Agent, string[]][] = [
    [agent("a1", "10.1.200.3", "app-1"), ["base", "lan"]],
    [agent("a2", "192.168.1.230", "WEB-2"), ["base", "range", "web"]],
    [agent("a3", "192.168.1.231", "api.prod.example.com"), ["base", "web"]],
    [agent("a4", "172.16.0.5", "db-7"), ["base", "range", "tagged"]],
    [agent("a5", "10.2.0.1", "db-77", { env: "staging" }), ["base", "tagged"]],
    [agent("a6", "10.9.1.1", ""), ["base", "tagged"]],
    [agent("a7", "", "prod.example.com"), ["base"]],
  ];
  for (const [a, want] of cases) {
    await a.cycle();
    await a.cycle();
    t.deepEqual([...a.pipelines.keys()].sort(), want, a.instanceId);
  }
  // The console's group counts and ListAgents by group use the same matching.
  const listed = await server.api.listAgents({ group_name: "web" });
  t.deepEqual(listed.body.agents.map((x) => x.agent_id).sort(), ["a2", "a3"]);
  // An agent that moves (a new address) gets the other group's configs and loses the old one's.
  const [moving] = cases[0] as [V2Agent, string[]];
  moving.ip = "192.168.1.210";
  await moving.cycle();
  await moving.cycle();
  t.deepEqual([...moving.pipelines.keys()].sort(), ["base", "range"]);
});

test("group ips and hostnames select v1 agents by their ip and hostname attributes", async (t) => {
  const server = await withServer(t, { repo: repoWith("cs-sel-v1-", SELECTOR_REPO) });
  const agent = (id: string, ip: string, hostname?: string) => {
    const a = new V1Agent(server.url, id, {});
    a.ip = ip;
    a.hostname = hostname;
    return a;
  };
  const cases: [V1Agent, string[]][] = [
    [agent("b1", "10.1.0.1"), ["base", "lan"]],
    [agent("b2", "192.168.1.215", "web-9"), ["base", "range", "web"]],
    [agent("b3", "10.0.0.1", "db-1"), ["base", "tagged"]],
    // iLogtail 1.x sends no hostname: host name selectors cannot match it.
    [agent("b4", "10.0.0.1"), ["base"]],
  ];
  for (const [a, want] of cases) {
    await a.cycle();
    await a.cycle();
    t.deepEqual([...a.held.keys()].sort(), want, a.instanceId);
  }
});

test("group ips select alpha agents by the ip they report; alpha agents report no host name", async (t) => {
  const server = await withServer(t, { repo: repoWith("cs-sel-alpha-", SELECTOR_REPO) });
  const names = async (agentId: string, ip: string) => {
    const hb = await server.api.heartbeat({ request_id: "h", agent_id: agentId, agent_type: "iLogtail", agent_version: "1.8.0", ip, tags: {} });
    t.is(hb.status, 200);
    const r = await server.api.configList({ agent_id: agentId });
    t.is(r.status, 200);
    return r.body.config_update_infos.map((c) => c.config_name).sort();
  };
  t.deepEqual(await names("c1", "10.1.3.4"), ["base", "lan"]);
  t.deepEqual(await names("c2", "192.168.1.200"), ["base", "range"]);
  t.deepEqual(await names("c3", "10.9.0.1"), ["base", "tagged"]);
  t.deepEqual(await names("c4", "10.3.0.1"), ["base"]);
  // The group listing agrees (ListAgents by group).
  const listed = await server.api.listAgents({ group_name: "lan" });
  t.deepEqual(listed.body.agents.map((a) => pb.Agent.toObject(a as never).agent_id), ["c1"]);
});
