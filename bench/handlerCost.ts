// The agent path's own JavaScript per request, without HTTP (BENCHMARKS.md, "The agent path
// against bare node:http"): every agent route the benchmarks load, compiled as the server compiles
// them (src/protocols/compileRoutes.ts) over the real store and registry of an in-process server,
// answered from the same bodies the load generator sends; against what the bare baseline does per
// request (bench/baselineRoutes.ts: decode, copy the template, encode). Microseconds per request,
// median of rounds.
// Run: node --import tsx bench/handlerCost.ts [agents=10000] [rounds=7]
import type { IncomingMessage } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { Outcome } from "../src/http/endpoint.ts";
import { agentRoutes } from "../src/protocols/agentRoutes.ts";
import { ChangeSignal } from "../src/protocols/changeSignal.ts";
import type { CompiledRoute } from "../src/protocols/compileRoute.ts";
import { compileRoutes } from "../src/protocols/compileRoutes.ts";
import { startServer } from "../src/server.ts";
import { baselineRoutes } from "./baselineRoutes.ts";
import { APPLIED, buildRepo } from "./fleet.ts";
import { encodeRequests, type BodyKind } from "./loadgen.ts";
import { median } from "./stats.ts";

const AGENTS = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const work = mkdtempSync(join(tmpdir(), "configserver-handler-"));
buildRepo(join(work, "repo"), { configs: APPLIED, commits: APPLIED });
const server = await startServer({ repo: join(work, "repo"), port: 0, logger: pino({ level: "silent" }) });
const REQ = { url: "/", headers: {}, rawHeaders: [] } as unknown as IncomingMessage;

const onError = (e: unknown, route: string) => {
  throw new Error(`${route} failed: ${String(e)}`);
};
const compiled = compileRoutes(agentRoutes({ store: server.store, registry: server.registry, changes: new ChangeSignal() }, {}), { bodyLimit: 4 << 20, onError });
const byPath = new Map<string, CompiledRoute>(compiled.map((r) => [r.path, r]));
const bodyOf = (wire: Buffer) => wire.subarray(wire.indexOf("\r\n\r\n") + 4);
const answer = (route: CompiledRoute, body: Buffer): Outcome => {
  const o = route.answer(REQ, body, undefined, undefined);
  if (o instanceof Promise) throw new Error("an agent route answered asynchronously");
  if (o.status !== 200) throw new Error(`${route.path} answered ${o.status} ${o.code}`);
  return o;
};

// The served versions, as the fleet reports them (agent 0's GetConfigList NEW).
const list = byPath.get("/Agent/GetConfigList") as CompiledRoute;
const hb = byPath.get("/Agent/HeartBeat") as CompiledRoute;
for (const b of encodeRequests({ kind: "heartbeat", agents: AGENTS })) answer(hb, bodyOf(b));
const versions: Record<string, number> = {};
{
  const { configserver } = await import("../src/gen/proto.js");
  const first = bodyOf(encodeRequests({ kind: "configList", agents: 1 })[0] as Buffer);
  const m = configserver.proto.AgentGetConfigListResponse.decode(answer(list, first).body);
  for (const i of m.config_update_infos) versions[i.config_name ?? ""] = Number(i.config_version);
}

const SCENARIOS: [string, BodyKind, string, Record<string, number> | undefined, boolean][] = [
  ["alpha GetConfigList SAME", "configList", "/Agent/GetConfigList", versions, false],
  ["alpha HeartBeat", "heartbeat", "/Agent/HeartBeat", undefined, false],
  ["v1 HeartBeat (10 current)", "v1heartbeat", "/Agent/HeartBeat", versions, true],
  ["v2 Heartbeat (10 current)", "v2heartbeat", "/Agent/Heartbeat", versions, false],
];
console.log(`${AGENTS} agents, ${ROUNDS} rounds; µs per request (median of rounds)\n`);
console.log("| route | server's route (answer) | bare baseline's work | ratio |\n|---|---:|---:|---:|");
for (const [title, kind, path, v, isV1] of SCENARIOS) {
  const bodies = encodeRequests({ kind, agents: AGENTS, ...(v ? { versions: v } : {}) }).map(bodyOf);
  const route = byPath.get(path) as CompiledRoute;
  // Registered and answered once (the first v2 beat asks for the full state), as a running fleet is.
  for (let k = 0; k < 3; k++) for (const b of bodies) answer(route, b);
  const template = Buffer.from(answer(route, bodies[0] as Buffer).body).toString("base64");
  const base = baselineRoutes({ [path]: template }, isV1).get(path);
  if (base === undefined) throw new Error(`no baseline for ${path}`);
  const ours: number[] = [];
  const bare: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t = process.hrtime.bigint();
    for (const b of bodies) answer(route, b);
    ours.push(Number(process.hrtime.bigint() - t) / 1000 / bodies.length);
    t = process.hrtime.bigint();
    for (const b of bodies) {
      const echo = base.decode(b);
      base.headerId(echo);
      base.answer(echo);
    }
    bare.push(Number(process.hrtime.bigint() - t) / 1000 / bodies.length);
  }
  console.log(`| ${title} | ${median(ours).toFixed(2)} | ${median(bare).toFixed(2)} | ${(median(ours) / median(bare)).toFixed(2)} |`);
}
await server.close();
rmSync(work, { recursive: true, force: true });
