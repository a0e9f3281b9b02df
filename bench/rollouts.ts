// Rollouts (issue 24): what 10 rollouts in progress cost the agent path, and how fast a FAILED
// report halts a rollout. Prints a Markdown section for BENCHMARKS.md on stdout (progress on stderr).
// 1. Two servers of this checkout (bin/configserver serve), A on the bench repository, B on the
//    same plus rollout.yaml, then 10 commits changing the 10 configs every agent applies: 10
//    rollouts progressing at wave 1 in B (checked before and after measuring). The scenarios of
//    bench/ab.ts, closed loop, A and B interleaved (order rotated each round); medians of per-round
//    ratios B ÷ A of req/s and of server CPU per request.
// 2. bench/rolloutHalt.ts: report FAILED → halted, on a third server with a small v2 fleet.
// Run: node --import tsx bench/rollouts.ts [rounds=5] [ms=3000] [same,heartbeat,v1,v2] [agents=10000] [haltRuns=20] [haltAgents=200]
// BENCH_WAVES: the waves of B's rollout.yaml (default "1, 10%, 50%, 100%": see the Method printed).
// BENCH_ON_HALT: pause or revert (default revert) for part 2. BENCH_SERVE_ARGS: extra `serve` options
// for every server (default --agent-ttl 1h, so agents idle between scenarios do not count as lost).
// BENCH_PROFILE=1: servers A and B run with --cpu-prof into bench/results/ (where B's extra time goes).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { captureTemplates, cpuRatio, cpuUs, interleaved, ratio, registerFleet, SCENARIOS, servedVersions, specOf, type Contender, type ScenarioName } from "./agentFleet.ts";
import { APPLIED, buildRepo, git } from "./fleet.ts";
import type { LoadResult } from "./loadgen.ts";
import { load, request, ROOT, startServer, type Proc } from "./proc.ts";
import { commitConfig, getJson, haltPolicy, measureHalts, poll, type HaltRun, type RolloutJson } from "./rolloutHalt.ts";
import { median } from "./stats.ts";

const ROUNDS = Number(process.argv[2] ?? 5);
const MS = Number(process.argv[3] ?? 3000);
const WANTED = (process.argv[4] ?? "same,heartbeat,v1,v2").split(",").map((s) => s.trim()) as ScenarioName[];
const AGENTS = Number(process.argv[5] ?? 10_000);
const HALT_RUNS = Number(process.argv[6] ?? 20);
const HALT_AGENTS = Number(process.argv[7] ?? 200);
const WAVES = process.env.BENCH_WAVES ?? "1, 10%, 50%, 100%";
const ON_HALT = process.env.BENCH_ON_HALT ?? "revert";
const SERVE_ARGS = ["--agent-ttl", "1h", ...(process.env.BENCH_SERVE_ARGS ?? "").split(" ").filter(Boolean)];
const ROLLING = 10;
const RESULTS = join(ROOT, "bench", "results");
const PROFILE = process.env.BENCH_PROFILE === "1" ? ["--cpu-prof", "--cpu-prof-dir", RESULTS] : [];
const log = (...a: unknown[]) => console.error(`[rollouts ${new Date().toISOString().slice(11, 19)}]`, ...a);
for (const w of WANTED) if (!SCENARIOS[w]) throw new Error(`unknown scenario ${w}: one of ${Object.keys(SCENARIOS).join(", ")}`);
if (ON_HALT !== "pause" && ON_HALT !== "revert") throw new Error(`BENCH_ON_HALT is pause or revert, not ${ON_HALT}`);

const started = new Date();
if (PROFILE.length) mkdirSync(RESULTS, { recursive: true });
const work = mkdtempSync(join(tmpdir(), "configserver-rollouts-"));
const listRollouts = async (p: Proc) => (await getJson<{ rollouts: RolloutJson[] }>(p.port, "/api/v1/rollouts")).rollouts;
const progressing = async (p: Proc) => (await listRollouts(p)).filter((r) => r.state === "progressing");
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
/** "8 at wave 1, 2 at wave 2". */
const waveList = (rs: RolloutJson[]) => [...new Set(rs.map((r) => r.wave))].sort().map((w) => `${rs.filter((r) => r.wave === w).length} at wave ${w}`).join(", ");

function addPolicy(repo: string, text: string): void {
  writeFileSync(join(repo, "rollout.yaml"), text);
  git(repo, ["add", "rollout.yaml"]);
  git(repo, ["commit", "-q", "-m", "bench: rollout policy"]);
}

interface Row {
  readonly name: ScenarioName;
  readonly a: LoadResult[];
  readonly b: LoadResult[];
  readonly rps: number;
  readonly cpu: number;
  readonly loads: number[];
}

async function throughput(): Promise<{ rows: Row[]; before: RolloutJson[]; after: RolloutJson[]; evaluation: { count: number; meanMs: number } }> {
  const repos = { A: join(work, "a"), B: join(work, "b") };
  for (const dir of Object.values(repos)) buildRepo(dir, { configs: APPLIED, commits: APPLIED });
  addPolicy(repos.B, `waves: [${WAVES}]\nbake: 7d\napplyTimeout: 7d\nhalt: {failed: 1}\nonHalt: pause\n`);
  const servers: Contender[] = [];
  try {
    for (const [name, repo] of Object.entries(repos)) servers.push({ name, proc: await startServer(repo, PROFILE, undefined, SERVE_ARGS) });
    if (PROFILE.length) log(`profiles in ${RESULTS}: ${servers.map((c) => `server ${c.name} pid ${c.proc.pid}`).join(", ")}`);
    const [a, b] = servers.map((s) => s.proc) as [Proc, Proc];
    const v = await registerFleet(a, AGENTS, 64, undefined, WANTED);
    await registerFleet(b, AGENTS, 64, v, WANTED);
    if (JSON.stringify(await servedVersions(b.port)) !== JSON.stringify(v)) throw new Error("A and B serve other versions before the commits: the scenarios would differ");
    await captureTemplates(a, v); // checks that each scenario means what it says (on A)
    for (let i = 0; i < ROLLING; i++) commitConfig(repos.B, i, 1_000 + i);
    const before = await poll(`${ROLLING} rollouts progressing in B`, async () => {
      const p = await progressing(b);
      return p.length === ROLLING ? p : undefined;
    }, 50);
    log(`B: ${ROLLING} rollouts progressing (${before.map((r) => `${r.config} wave ${r.wave}`).join(", ")}); load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    const rows: Row[] = [];
    for (const name of WANTED) {
      const spec = { ...specOf(SCENARIOS[name], AGENTS, v), connections: 64 };
      for (const c of servers) await load({ ...spec, port: c.proc.port, durationMs: 1000 });
      const r = await interleaved(servers, spec, ROUNDS, MS, 300, (i, x) => {
        const [ra, rb] = [x.results.A?.at(-1), x.results.B?.at(-1)] as [LoadResult, LoadResult];
        log(name, `round ${i + 1}: A ${Math.round(ra.rps)} (${cpuUs(ra).toFixed(1)} µs), B ${Math.round(rb.rps)} (${cpuUs(rb).toFixed(1)} µs), B ÷ A ${pct(rb.rps / ra.rps)}; load ${x.load.at(-1)?.toFixed(1)}`);
      });
      rows.push({ name, a: r.results.A ?? [], b: r.results.B ?? [], rps: ratio(r, "B", "A"), cpu: cpuRatio(r, "A", "B"), loads: r.load });
    }
    const after = await listRollouts(b);
    // How long B's evaluations of the 10 rollouts took while it served the load (its /metrics).
    const m = (await request(b.port, "GET", "/metrics", new Uint8Array())).body.toString();
    const metric = (name: string) => Number(new RegExp(`^configserver_rollout_evaluation_seconds_${name} ([0-9.e+-]+)$`, "m").exec(m)?.[1] ?? NaN);
    const evaluation = { count: metric("count"), meanMs: (metric("sum") / metric("count")) * 1000 };
    return { rows, before, after, evaluation };
  } finally {
    for (const s of servers) await s.proc.stop();
  }
}

async function halts(): Promise<HaltRun[]> {
  const repo = join(work, "halt");
  buildRepo(repo, { configs: APPLIED, commits: 1 });
  addPolicy(repo, haltPolicy(ON_HALT));
  const server = await startServer(repo, [], undefined, SERVE_ARGS);
  try {
    return await measureHalts(server, repo, HALT_AGENTS, HALT_RUNS, ON_HALT === "revert", log);
  } finally {
    await server.stop();
  }
}

const p50max = (xs: number[]) => `${Math.round(median(xs))} ms / ${Math.round(Math.max(...xs))} ms`;
const perSec = (xs: LoadResult[]) => Math.round(median(xs.map((x) => x.rps)));
const us = (xs: LoadResult[]) => median(xs.map(cpuUs)).toFixed(1);

try {
  const t = await throughput();
  const h = await halts();
  const loads = [...t.rows.flatMap((r) => r.loads)];
  const stillRolling = t.after.filter((r) => r.state === "progressing").length;
  const received = t.after.reduce((n, r) => n + r.received, 0);
  const cmd = `node --import tsx bench/rollouts.ts ${ROUNDS} ${MS} ${WANTED.join(",")} ${AGENTS} ${HALT_RUNS} ${HALT_AGENTS}`;
  const env = [process.env.BENCH_WAVES ? `BENCH_WAVES="${WAVES}"` : "", process.env.BENCH_ON_HALT ? `BENCH_ON_HALT=${ON_HALT}` : "", process.env.BENCH_SERVE_ARGS ? `BENCH_SERVE_ARGS="${process.env.BENCH_SERVE_ARGS}"` : ""].filter(Boolean).join(" ");
  console.log(`## Rollouts (issue 24, ${started.toISOString().slice(0, 16).replace("T", " ")} UTC)

\`${env ? `${env} ` : ""}${cmd}\`

### Method

- **Throughput with ${ROLLING} rollouts in progress** (\`bench/rollouts.ts\`): two server processes of
  the same checkout (\`bin/configserver serve ${SERVE_ARGS.join(" ")}\`), A on the bench repository
  (\`bench/fleet.ts\`: every agent gets ${APPLIED} configs), B on the same plus \`rollout.yaml\`
  (\`waves: [${WAVES}]\`, bake and applyTimeout 7 days) and then ${ROLLING} commits, one per config the
  agents apply: ${ROLLING} rollouts \`progressing\` in B, checked through \`GET /api/v1/rollouts\`
  before measuring (${waveList(t.before)}) and after (${stillRolling} of ${ROLLING} still \`progressing\`:
  ${waveList(t.after)}; ${received} agent-config pairs had been sent a new version).
  ${AGENTS.toLocaleString("en")} agents of each measured kind registered with both. Agents outside
  the current waves are served the previous version, which they report: their answers are A's.
  Every agent's wave is decided per request (its bucket for each of the ${ROLLING} configs). The
  first wave is one agent on purpose: the load generator's agents all report the same versions,
  so an agent of the current waves never "applies" and is sent the new version on every request;
  a 1 % wave would make ~10 % of B's requests carry a config no real agent is sent twice
  (\`BENCH_WAVES="1%, 10%, 50%, 100%"\` measures that; a wave that selects nobody, such as 0.01 %
  of a small fleet, is skipped at once and the rollout stands at 10 %).
- The scenarios of \`bench/ab.ts\` (\`bench/agentFleet.ts\`), closed loop, 64 connections, ${MS} ms
  each after a 300 ms warm-up, ${ROUNDS} rounds, A and B interleaved with the order rotated each
  round. Ratios are medians of per-round ratios; CPU per request from \`/proc\`.
- **FAILED → halt** (\`bench/rolloutHalt.ts\`): one server, \`${haltPolicy(ON_HALT).trim().replaceAll("\n", "; ")}\`,
  ${HALT_AGENTS} v2 agents. Per run a fresh commit of cfg-0000 starts a rollout; one v2 agent of wave 1
  heartbeats (it is sent the new version) and reports it \`FAILED\` in \`ReportStatus\`. Timed from
  the moment that report is answered to the \`halted\` event in the rollout's history (the server's
  clock; the same machine), to when \`GET /api/v1/rollouts/cfg-0000\` polled every 5 ms first shows
  it${ON_HALT === "revert" ? ", and to the `reverted` event (the revert commit made)" : ""}. The controller evaluates every 200 ms;
  each report is sent after a random pause of 0-200 ms, so the runs sample every moment of that cycle.
- Load average (1 min) ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} during the throughput rounds.
- B's evaluations of the ${ROLLING} rollouts while it served (\`configserver_rollout_evaluation_seconds\`):
  ${t.evaluation.count} evaluations, ${t.evaluation.meanMs.toFixed(1)} ms each on average (every live agent for every
  rollout); they are spaced to at most a twentieth of the process's time, so at this fleet one
  starts every ${Math.max(200, 20 * t.evaluation.meanMs).toFixed(0)} ms or so: the time from a report to a halt at this size.

### Results

| Scenario | A: no rollouts, req/s (µs CPU/req) | B: ${ROLLING} rollouts, req/s (µs CPU/req) | B ÷ A req/s | B ÷ A CPU/req | target |
|---|---|---|---|---|---|
${t.rows.map((r) => `| ${SCENARIOS[r.name].title} | ${perSec(r.a)} (${us(r.a)}) | ${perSec(r.b)} (${us(r.b)}) | ${pct(r.rps)} | ${pct(r.cpu)} | ≥ 90 % req/s |`).join("\n")}

| ${HALT_RUNS} runs, onHalt: ${ON_HALT} | p50 / max |
|---|---|
| report answered → \`halted\` (history) | ${p50max(h.map((x) => x.toHaltMs))} |
| report answered → seen \`halted\` (API polled every 5 ms) | ${p50max(h.map((x) => x.seenMs))} |
${ON_HALT === "revert" ? `| report answered → \`reverted\` (revert commit made) | ${p50max(h.map((x) => x.revertedMs ?? NaN))} |\n` : ""}`);
  if (stillRolling !== ROLLING) log(`WARNING: only ${stillRolling} of ${ROLLING} rollouts were still progressing after measuring: the comparison is not what it says`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
