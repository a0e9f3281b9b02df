// Listings of a large fleet: ListAgents (protobuf) and GET /api/v1/agents (filtered, paged) at
// 200,000 agents, and how long they stall the event loop (what a heartbeat arriving meanwhile
// waits). Run: node --import tsx bench/listing.ts [agents]   (default 200000)
// In-process (startServer, the function the CLI calls): the fleet is put into the registry
// directly, the requests go over HTTP, and perf_hooks' event-loop delay histogram is read per request.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { configserver } from "../src/gen/proto.js";
import { startServer } from "../src/server.ts";
import { call } from "./httpCall.ts";

const N = Number(process.argv[2] ?? 200_000);
const pb = configserver.proto;

const repo = mkdtempSync(join(tmpdir(), "cs-listing-"));
const server = await startServer({ repo, port: 0, logger: pino({ level: "silent" }) });
// A commit with the three env groups, so group and config filters have something to match.
for (const env of ["prod", "staging", "dev"]) {
  await call(server.url, "POST", "/User/CreateAgentGroup", JSON.stringify({ agent_group: { group_name: env, tags: [{ name: "env", value: env }] } }), "application/json");
}
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  server.registry.heartbeat({
    agentId: `agent-${String(i).padStart(7, "0")}`,
    protocol: i % 3 === 0 ? "v2" : "alpha",
    attributes: { agentType: "LoongCollector", version: i % 10 === 0 ? "3.0.4" : "3.0.5", ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, hostname: `host-${i}`, extras: {} },
    tags: { named: { env: ["prod", "staging", "dev"][i % 3] as string, region: `r${i % 10}`, app: `app${i % 100}` } },
    runningStatus: "running",
    startupTime: 1_700_000_000,
  });
}
console.error(`registered ${N} agents in ${Math.round(performance.now() - t0)} ms`);

const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
const rows: string[] = ["| request | answer | server time (ms) | longest event-loop stall (ms) |", "|---|---|---|---|"];
const measure = async (label: string, method: string, path: string, body: Uint8Array | string, type: string) => {
  // Twice: the first also warms the JIT and the sorted id order; the second is reported.
  await call(server.url, method, path, body, type);
  h.reset();
  const r = await call(server.url, method, path, body, type);
  rows.push(`| ${label} | ${r.status}, ${(r.bytes / 1048576).toFixed(1)} MB | ${r.ms.toFixed(0)} | ${(h.max / 1e6).toFixed(0)} |`);
};
await measure("ListAgents default (protobuf)", "POST", "/User/ListAgents", pb.ListAgentsRequest.encode({ group_name: "default" }).finish(), "application/x-protobuf");
await measure("ListAgents prod (protobuf, 1/3 of the fleet)", "POST", "/User/ListAgents", pb.ListAgentsRequest.encode({ group_name: "prod" }).finish(), "application/x-protobuf");
await measure("ListAgents default (JSON)", "POST", "/User/ListAgents", JSON.stringify({ group_name: "default" }), "application/json");
await measure("GET /api/v1/agents (first page of 500)", "GET", "/api/v1/agents", "", "application/json");
await measure("GET /api/v1/agents?tag=env=prod&version=3.0.4&limit=100", "GET", "/api/v1/agents?tag=env=prod&version=3.0.4&limit=100", "", "application/json");
await measure("GET /api/v1/agents?q=host-19999&limit=100", "GET", "/api/v1/agents?q=host-19999&limit=100", "", "application/json");
await measure("GET /api/v1/agents?group=prod&protocol=v2&limit=5000", "GET", "/api/v1/agents?group=prod&protocol=v2&limit=5000", "", "application/json");
h.disable();
console.log(`${N} agents, node ${process.version}\n`);
console.log(rows.join("\n"));
await server.close();
rmSync(repo, { recursive: true, force: true });
