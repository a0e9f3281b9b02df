// A/B of the agent path: the server of another checkout (BENCH_A, e.g. an extracted older commit
// with node_modules linked and dist/ built) against this one, and both against the koa and the
// bare node:http baselines, interleaved round by round (order rotated). Closed-loop peaks of the
// chosen scenarios (bench/agentFleet.ts; default same,heartbeat), 10k agents each. Ratios are
// per round, reported as medians; CPU per request (from /proc) moves less than req/s here.
// Run: [BENCH_A=/tmp/cs-before] node --import tsx bench/ab.ts [rounds=5] [ms=3000] [same,new,heartbeat,v1,v2,v2first] [agents=10000]
// BENCH_PROFILE=1: the servers (and the baselines) run with --cpu-prof into bench/results/.
// BENCH_FLEET=measured: register only the measured scenarios' agents (default: 10,000 of every kind).
// BENCH_SERVE_ARGS: extra `serve` options for the servers (e.g. "--request-timeout 0").
// BENCH_HALF=1: then each scenario open loop at half of this server's peak (latency from each
// request's intended send time), on the server and on the bare baseline: p50, p99, max.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { captureTemplates, checkBaselines, cpuUs, interleaved, ratio, registerFleet, SCENARIOS, specOf, startBaselines, type Contender, type ScenarioName } from "./agentFleet.ts";
import { APPLIED, buildRepo } from "./fleet.ts";
import type { LoadResult } from "./loadgen.ts";
import { load, ROOT, startServer } from "./proc.ts";
import { median } from "./stats.ts";

const ROUNDS = Number(process.argv[2] ?? 5);
const MS = Number(process.argv[3] ?? 3000);
const WANTED = (process.argv[4] ?? "same,heartbeat").split(",").map((s) => s.trim()) as ScenarioName[];
const AGENTS = Number(process.argv[5] ?? 10_000);
const A = process.env.BENCH_A;
// BENCH_SERVE_ARGS="--request-timeout 0": serve options for the servers (what a setting costs).
const SERVE_ARGS = (process.env.BENCH_SERVE_ARGS ?? "").split(" ").filter(Boolean);
const RESULTS = join(ROOT, "bench", "results");
const flags = process.env.BENCH_PROFILE === "1" ? ["--cpu-prof", "--cpu-prof-dir", RESULTS] : [];
const log = (...a: unknown[]) => console.error(`[ab ${new Date().toISOString().slice(11, 19)}]`, ...a);
for (const w of WANTED) if (!SCENARIOS[w]) throw new Error(`unknown scenario ${w}: one of ${Object.keys(SCENARIOS).join(", ")}`);

mkdirSync(RESULTS, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "configserver-ab-"));
buildRepo(join(work, "repo"), { configs: APPLIED, commits: APPLIED });
const servers: Contender[] = [];
try {
  if (A) servers.push({ name: "A", proc: await startServer(join(work, "repo"), flags, A, SERVE_ARGS) });
  servers.push({ name: "B", proc: await startServer(join(work, "repo"), flags, ROOT, SERVE_ARGS) });
  let versions: Record<string, number> | undefined;
  // BENCH_FLEET=measured: only the measured scenarios' agents (and agent 0 of every kind) are registered.
  for (const s of servers) versions = await registerFleet(s.proc, AGENTS, 64, versions, process.env.BENCH_FLEET === "measured" ? WANTED : undefined);
  const v = versions as Record<string, number>;
  const templates = await captureTemplates((servers.at(-1) as Contender).proc, v);
  const baselines = await startBaselines(templates, ["koa", "bare"], flags);
  try {
    await checkBaselines(baselines, ["koa", "bare"], templates, v);
    if (flags.length) log(`profiles in ${RESULTS}: ${servers.map((c) => `server ${c.name} pid ${c.proc.pid}`).join(", ")}; baselines of ${WANTED.join(", ")}: ${WANTED.map((w) => `koa ${baselines.of(SCENARIOS[w], "koa").pid}, bare ${baselines.of(SCENARIOS[w], "bare").pid}`).join("; ")}`);
    log(`load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    for (const name of WANTED) {
      const s = SCENARIOS[name];
      const all: Contender[] = [...servers, { name: "koa", proc: baselines.of(s, "koa") }, { name: "bare", proc: baselines.of(s, "bare") }];
      const spec = { ...specOf(s, AGENTS, v), connections: 64 };
      for (const c of all) await load({ ...spec, port: c.proc.port, durationMs: 1000 });
      const r = await interleaved(all, spec, ROUNDS, MS, 300, (i, x) =>
        log(name, `round ${i + 1}`, Object.entries(x.results).map(([n, xs]) => `${n} ${Math.round((xs.at(-1) as LoadResult).rps)} (${cpuUs(xs.at(-1) as LoadResult).toFixed(1)} µs)`).join(", "), `load ${x.load.at(-1)?.toFixed(1)}`));
      const loads = `load ${Math.min(...r.load).toFixed(1)}-${Math.max(...r.load).toFixed(1)}`;
      for (const c of all) {
        const xs = r.results[c.name] as LoadResult[];
        const vs = c.name === "koa" || c.name === "bare" ? "" : `, ÷ koa ${(ratio(r, c.name, "koa") * 100).toFixed(0)} %, ÷ bare ${(ratio(r, c.name, "bare") * 100).toFixed(0)} %`;
        console.log(`${name} ${c.name}: ${Math.round(median(xs.map((x) => x.rps)))} req/s${s.bytes ? ` (${(median(xs.map((x) => x.bytesPerSec)) / 1048576).toFixed(1)} MB/s)` : ""}, ${median(xs.map(cpuUs)).toFixed(1)} µs CPU/req${vs}; ${loads}`);
      }
      if (process.env.BENCH_HALF === "1") {
        const rate = Math.round(median((r.results[(servers.at(-1) as Contender).name] as LoadResult[]).map((x) => x.rps)) / 2);
        for (const c of [servers.at(-1) as Contender, { name: "bare", proc: baselines.of(s, "bare") }]) {
          const h = await load({ ...spec, port: c.proc.port, rate, durationMs: MS * 2, warmupMs: 500 });
          console.log(`${name} ${c.name} at half of peak (${rate} req/s, ${Math.round(h.rps)} answered): p50 ${h.latencyMs.p50} ms, p99 ${h.latencyMs.p99} ms, max ${h.latencyMs.max} ms, errors ${h.errors}`);
        }
      }
    }
  } finally {
    await baselines.stop();
  }
} finally {
  for (const s of servers) await s.proc.stop();
  rmSync(work, { recursive: true, force: true });
}
