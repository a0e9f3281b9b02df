// perf samples of one server under one scenario's closed-loop load: `perf record` of the server
// process (node --perf-basic-prof, so JIT frames have names) while the load generator runs.
// PERF_NO_BARE=1: the server only. PERF_G=1: with call graphs. BENCH_FLEET=measured: only this
// scenario's agents are registered (and agent 0 of every kind), not 10,000 of every kind.
// Run: node --import tsx bench/perfSamples.ts [scenario[,scenario…]=heartbeat] [agents=10000] [seconds=4] [checkout=.]
//   → for the server, then the bare node:http baseline: perf data in
//   bench/results/perf-<scenario>-<agents>-<server|bare>.data, req/s, and the top symbols.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureTemplates, registerFleet, SCENARIOS, specOf, startBaselines, type Scenario, type ScenarioName } from "./agentFleet.ts";
import type { Proc } from "./proc.ts";
import { APPLIED, buildRepo } from "./fleet.ts";
import { load, ROOT, startServer } from "./proc.ts";

const NAMES = (process.argv[2] ?? "heartbeat").split(",") as ScenarioName[];
const NAME = NAMES[0] as ScenarioName;
const AGENTS = Number(process.argv[3] ?? 10_000);
const SECONDS = Number(process.argv[4] ?? 4);
const CHECKOUT = process.argv[5] ?? ROOT;
const s = SCENARIOS[NAME];
const work = mkdtempSync(join(tmpdir(), "configserver-perf-"));
buildRepo(join(work, "repo"), { configs: APPLIED, commits: APPLIED });
// --perf-basic-prof turns V8's logger on: its log goes nowhere (not isolate-*.log in the working directory).
const PERF_FLAGS = ["--perf-basic-prof", "--logfile=/dev/null", "--no-logfile-per-isolate"];
const server = await startServer(join(work, "repo"), PERF_FLAGS, CHECKOUT, []);
const versions = await registerFleet(server, AGENTS, 64, undefined, process.env.BENCH_FLEET === "measured" ? NAMES : undefined);
const withBare = process.env.PERF_NO_BARE === undefined;
const baselines = withBare ? await startBaselines(await captureTemplates(server, versions), ["bare"], PERF_FLAGS) : undefined;
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });

async function sample(proc: Proc, who: string, s: Scenario = SCENARIOS[NAME]): Promise<void> {
  const NAME = s.name;
  const spec = { ...specOf(s, AGENTS, versions), connections: 64, port: proc.port };
  await load({ ...spec, durationMs: 1000 });
  const data = join(ROOT, "bench", "results", `perf-${NAME}-${AGENTS}-${who}.data`);
  const running = load({ ...spec, durationMs: (SECONDS + 2) * 1000, watchPid: proc.pid });
  const perf = spawn("perf", ["record", "-F", "1999", ...(process.env.PERF_G ? ["-g"] : []), "-o", data, "-p", String(proc.pid), "--", "sleep", String(SECONDS)], { stdio: "ignore" });
  await new Promise((resolve) => perf.once("exit", resolve));
  const r = await running;
  console.log(`${who}: ${NAME} ${AGENTS} agents: ${Math.round(r.rps)} req/s, CPU ${r.serverCpu?.toFixed(2)} core, ${((r.serverCpu ?? 0) / r.rps * 1e6).toFixed(1)} µs/req`);
  console.log(execFileSync("perf", ["report", "-i", data, "--no-children", "--sort", "sym", "--stdio", "--percent-limit", "0.4"], { encoding: "utf8", maxBuffer: 1 << 28 }).split("\n").filter((l) => l && !l.startsWith("#")).slice(0, 45).join("\n"));
}

for (const n of NAMES) await sample(server, "server", SCENARIOS[n]);
if (baselines !== undefined) await sample(baselines.of(s, "bare"), "bare");
await server.stop();
await baselines?.stop();
// The JIT symbol maps perf read (one per process).
for (const pid of [server.pid, ...(baselines ? Object.values(SCENARIOS).map((x) => baselines.of(x, "bare").pid) : [])]) rmSync(`/tmp/perf-${pid}.map`, { force: true });
rmSync(work, { recursive: true, force: true });
