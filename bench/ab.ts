// A/B of the agent path: the server of another checkout (BENCH_A, e.g. an extracted older commit
// with node_modules linked and src/gen copied) against this one, and both against the baseline,
// interleaved round by round (order rotated). Only the closed-loop peaks of GetConfigList SAME and
// HeartBeat, 10k agents. Ratios are per round, reported as medians.
// Run: BENCH_A=/tmp/cs-before node --import tsx bench/ab.ts [rounds] [ms]
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { configserver } from "../src/gen/proto.js";
import { agentId, APPLIED, buildRepo } from "./fleet.ts";
import type { LoadResult } from "./loadgen.ts";
import { load, request, ROOT, startBaseline, startServer, type Proc } from "./proc.ts";

const pb = configserver.proto;
const ROUNDS = Number(process.argv[2] ?? 5);
const MS = Number(process.argv[3] ?? 3000);
const A = process.env.BENCH_A;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const log = (...a: unknown[]) => console.error(`[ab ${new Date().toISOString().slice(11, 19)}]`, ...a);

const work = mkdtempSync(join(tmpdir(), "configserver-ab-"));
buildRepo(join(work, "repo"), { configs: APPLIED, commits: APPLIED });
const servers: [string, Proc][] = [];
if (A) servers.push(["A", await startServer(join(work, "repo"), [], A)]);
servers.push(["B", await startServer(join(work, "repo"), [], ROOT)]);
const first = (servers[0] as [string, Proc])[1];
try {
  for (const [, s] of servers) await load({ port: s.port, kind: "heartbeat", agents: 10_000, connections: 64, once: true });
  const r = await request(first.port, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ agent_id: agentId(0) }).finish());
  const versions = Object.fromEntries(pb.AgentGetConfigListResponse.decode(r.body).config_update_infos.map((i) => [i.config_name ?? "", Number(i.config_version)]));
  const cap = async (path: string, body: Uint8Array) => (await request(first.port, "POST", path, body)).body.toString("base64");
  const clSame = pb.AgentGetConfigListRequest.encode(pb.AgentGetConfigListRequest.fromObject({ request_id: `cl-${agentId(0)}`, agent_id: agentId(0), config_versions: versions })).finish();
  const hb = pb.HeartBeatRequest.encode({ request_id: `hb-${agentId(0)}`, agent_id: agentId(0), tags: { env: "prod", region: "region-0", app: "app-0" } }).finish();
  const base = await startBaseline({ "/Agent/GetConfigList": await cap("/Agent/GetConfigList", clSame), "/Agent/HeartBeat": await cap("/Agent/HeartBeat", hb) });
  const all: [string, Proc][] = [...servers, ["base", base]];
  try {
    for (const kind of ["configList", "heartbeat"] as const) {
      for (const [, p] of all) await load({ port: p.port, kind, agents: 10_000, versions, connections: 64, durationMs: 1000 });
      const res: Record<string, LoadResult[]> = {};
      for (let i = 0; i < ROUNDS; i++) {
        const order = all.map((_, k) => all[(k + i) % all.length] as [string, Proc]);
        for (const [name, p] of order) {
          const x = await load({ port: p.port, kind, agents: 10_000, versions, connections: 64, durationMs: MS, warmupMs: 300, watchPid: p.pid });
          if (x.errors) throw new Error(`${name}: errors ${JSON.stringify(x.statuses)}`);
          (res[name] ??= []).push(x);
        }
        log(kind, `round ${i + 1}`, Object.entries(res).map(([n, xs]) => `${n} ${Math.round((xs.at(-1) as LoadResult).rps)}`).join(", "), `load ${loadavg()[0]?.toFixed(1)}`);
      }
      const b = res.base as LoadResult[];
      for (const [name] of servers) {
        const xs = res[name] as LoadResult[];
        const ratio = median(xs.map((x, i) => x.rps / (b[i] as LoadResult).rps));
        const cpu = median(xs.map((x) => ((x.serverCpu ?? 0) / x.rps) * 1e6));
        const cpuRatio = median(xs.map((x, i) => ((b[i]?.serverCpu ?? 0) / (b[i] as LoadResult).rps) / ((x.serverCpu ?? 0) / x.rps)));
        console.log(`${kind} ${name}: ${Math.round(median(xs.map((x) => x.rps)))} req/s, ratio ${(ratio * 100).toFixed(0)} %, ${cpu.toFixed(0)} µs CPU/req (baseline CPU/req ÷ this: ${(cpuRatio * 100).toFixed(0)} %)`);
      }
      console.log(`${kind} base: ${Math.round(median(b.map((x) => x.rps)))} req/s, ${median(b.map((x) => ((x.serverCpu ?? 0) / x.rps) * 1e6)).toFixed(0)} µs CPU/req`);
    }
  } finally {
    await base.stop();
  }
} finally {
  for (const [, s] of servers) await s.stop();
  rmSync(work, { recursive: true, force: true });
}
