// What the web console asks a server with a large fleet, at 100,000 agents (default): each filter
// of the agents page (limit=50, as the page asks), the overview's fleet summary and status, the
// groups page's agent counts and a config's rollout. Baseline in the same run: GET /healthz, the
// cost of one HTTP round trip to this server. Run: node --import tsx bench/console.ts [agents]
// In-process (startServer, what the CLI calls); the fleet is put straight into the registry.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { ApplyStatus } from "../src/domain/agent.ts";
import { startServer } from "../src/server.ts";
import { call } from "./httpCall.ts";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = 7;
const repo = mkdtempSync(join(tmpdir(), "cs-console-bench-"));
const server = await startServer({ repo, port: 0, logger: pino({ level: "silent" }) });
const json = (m: string, path: string, body: unknown) => call(server.url, m, path, JSON.stringify(body), "application/json");
await json("POST", "/User/CreateConfig", { config_detail: { config_name: "app-log", agent_type: "LoongCollector", content: "inputs:\n  - Type: input_file\n" } });
for (const env of ["prod", "staging", "dev"]) {
  await json("PUT", `/api/v1/groups/${env}`, { tags: [{ name: "env", value: env }], configs: env === "prod" ? ["app-log"] : [] });
}
const version = server.store.state.configs.get("app-log")?.version ?? 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const agentId = `agent-${String(i).padStart(7, "0")}`;
  const env = ["prod", "staging", "dev"][i % 3] as string;
  server.registry.heartbeat({
    agentId,
    protocol: i % 3 === 0 ? "v2" : "alpha",
    attributes: { agentType: "LoongCollector", version: i % 10 === 0 ? "3.0.4" : "3.0.5", ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, hostname: `host-${i}`, extras: {} },
    tags: { named: { env, region: `r${i % 10}`, app: `app${i % 100}` } },
    runningStatus: "running",
    startupTime: 1_700_000_000,
  });
  if (env === "prod") {
    // 1 in 100 prod agents fails the config, with one of three messages.
    const failed = i % 100 === 0;
    server.registry.reportConfigs(agentId, "pipeline", [{ name: "app-log", version, status: failed ? ApplyStatus.FAILED : ApplyStatus.APPLIED, message: failed ? `parse error ${i % 3}` : "" }]);
  }
}
console.error(`registered ${N} agents in ${Math.round(performance.now() - t0)} ms`);

// Wall time suffers when other work shares the machine; the process's CPU time for the request
// (server and this client are one process: the client's part is a small HTTP read) much less.
const rows: string[] = ["| request (what the console asks) | answer | median server time (ms) | slowest of 7 (ms) | median CPU (ms) | × baseline |", "|---|---|---|---|---|---|"];
const measure = async (label: string, path: string) => {
  await call(server.url, "GET", path, "", "application/json");
  const times: number[] = [];
  const cpu: number[] = [];
  let last = { status: 0, bytes: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    const x = await call(server.url, "GET", path, "", "application/json");
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
    times.push(x.ms);
    last = x;
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { label, path, status: last.status, bytes: last.bytes, median: times[ROUNDS >> 1] as number, max: times[ROUNDS - 1] as number, cpu: cpu[ROUNDS >> 1] as number };
};
const baseline = await measure("baseline: GET /healthz", "/healthz");
const results = [baseline];
for (const [label, path] of [
  ["agents page, no filter", "/api/v1/agents?limit=50"],
  ["agents page, next page", "/api/v1/agents?limit=50&after=agent-0050000"],
  ["search (id, ip, hostname)", "/api/v1/agents?q=host-4242&limit=50"],
  ["tag", "/api/v1/agents?tag=app%3Dapp42&limit=50"],
  ["group", "/api/v1/agents?group=prod&limit=50"],
  ["protocol + version", "/api/v1/agents?protocol=v2&version=3.0.4&limit=50"],
  ["some config failed", "/api/v1/agents?failed=true&limit=50"],
  ["late", "/api/v1/agents?late=true&limit=50"],
  ["rollout link: config + state", "/api/v1/agents?config=app-log&configState=failed&limit=50"],
  ["overview: fleet summary", "/api/v1/fleet"],
  ["overview: status", "/status"],
  ["groups page: agent counts", "/api/v1/groups"],
  ["config page: rollout", "/api/v1/configs/app-log/rollout"],
] as const) results.push(await measure(label, path));
for (const r of results) rows.push(`| ${r.label} \`${r.path}\` | ${r.status}, ${(r.bytes / 1024).toFixed(1)} KiB | ${r.median.toFixed(1)} | ${r.max.toFixed(1)} | ${r.cpu.toFixed(1)} | ${(r.median / baseline.median).toFixed(1)} |`);
console.log(`${N} agents, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
console.log(rows.join("\n"));
await server.close();
rmSync(repo, { recursive: true, force: true });
