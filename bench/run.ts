// `make bench`: every scenario of BENCHMARKS.md against the real server process, each throughput
// as a ratio to the bare koa + protobufjs baseline measured in the same run.
// BENCH_QUICK=1: fewer and shorter rounds (about 3 minutes instead of 8).
// BENCH_ONLY=agent,memory,writes: only these scenario groups (default all).
// BENCH_PROFILE=1: also writes CPU profiles of the server (agent load) and of the store
// (reload, writes) to bench/results/ (summarise with `node --import tsx bench/profile.ts FILE`).
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { configserver } from "../src/gen/proto.js";
import { agentId, APPLIED, buildRepo, configName, configYaml, git, type RepoShape } from "./fleet.ts";
import { v1Heartbeat, type LoadResult, type LoadSpec } from "./loadgen.ts";
import { load, request, ROOT, rss, startBaseline, startServer, type Proc } from "./proc.ts";
import type { StoreResult } from "./store.ts";
import { median, r0, r1 } from "./stats.ts";

const pb = configserver.proto;
const QUICK = process.env.BENCH_QUICK === "1";
const PROFILE = process.env.BENCH_PROFILE === "1";
const ROUNDS = QUICK ? 2 : 5;
const GROWTH_ROUNDS = QUICK ? 1 : 3;
const DURATION_MS = QUICK ? 2000 : 4000;
const WARMUP_MS = QUICK ? 500 : 1000;
const CONNECTIONS = 64;
// BENCH_ONLY=agent,memory,writes (any of them, comma-separated): run only those scenario groups.
const ONLY = new Set((process.env.BENCH_ONLY ?? "agent,memory,writes").split(",").map((s) => s.trim()));
const RESULTS = join(ROOT, "bench", "results");

const work = mkdtempSync(join(tmpdir(), "configserver-bench-"));
const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const pct = (x: number) => `${r0(x * 100)} %`;
const mb = (b: number) => `${r1(b / 1048576)} MB`;
const log = (...a: unknown[]) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

interface Row {
  scenario: string;
  figure: string;
  baseline?: string;
  ratio?: string;
  target?: string;
  verdict?: string;
}
const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const verdict = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? "met" : "MISSED");

/** A repository for a scenario: built once per shape with fast-import, then copied. */
const built = new Map<string, string>();
function repoFor(shape: RepoShape): string {
  const key = `${shape.configs}configs-${shape.commits}commits`;
  let template = built.get(key);
  if (!template) {
    template = join(work, `template-${key}`);
    const t = performance.now();
    buildRepo(template, shape);
    log(`built repo ${key} in ${r0(performance.now() - t)} ms`);
    built.set(key, template);
  }
  const dir = mkdtempSync(join(work, `repo-${key}-`));
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function versionsOf(port: number, agent: number): Promise<Record<string, number>> {
  const r = await request(port, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ agent_id: agentId(agent) }).finish());
  const m = pb.AgentGetConfigListResponse.decode(r.body);
  if (r.status !== 200) throw new Error(`GetConfigList answered ${r.status} ${m.code}: ${m.message}`);
  return Object.fromEntries(m.config_update_infos.map((i) => [i.config_name ?? "", Number(i.config_version)]));
}

async function captured(port: number, path: string, body: Uint8Array): Promise<string> {
  const r = await request(port, "POST", path, body);
  if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
  return r.body.toString("base64");
}

async function register(server: Proc, agents: number): Promise<LoadResult> {
  const r = await load({ port: server.port, kind: "heartbeat", agents, connections: CONNECTIONS, once: true });
  if (r.errors) throw new Error(`registration: ${r.errors} errors ${JSON.stringify(r.statuses)}`);
  return r;
}

interface Pair {
  server: LoadResult[];
  baseline: LoadResult[];
  ratios: number[];
}

/** Closed-loop peak, server and baseline alternately (order flipped each round), `rounds` times. */
async function peak(server: Proc, baseline: Proc, spec: Omit<LoadSpec, "port" | "connections">, rounds: number): Promise<Pair> {
  const out: Pair = { server: [], baseline: [], ratios: [] };
  for (let i = 0; i < rounds; i++) {
    const run = (p: Proc) => load({ ...spec, port: p.port, connections: CONNECTIONS, durationMs: DURATION_MS, warmupMs: WARMUP_MS, watchPid: p.pid });
    let s: LoadResult;
    let b: LoadResult;
    if (i % 2 === 0) {
      b = await run(baseline);
      s = await run(server);
    } else {
      s = await run(server);
      b = await run(baseline);
    }
    if (s.errors || b.errors) throw new Error(`errors under load: server ${JSON.stringify(s.statuses)} baseline ${JSON.stringify(b.statuses)}`);
    out.server.push(s);
    out.baseline.push(b);
    out.ratios.push(s.rps / b.rps);
    log(`  round ${i + 1}: server ${r0(s.rps)} req/s (cpu ${r1(s.serverCpu ?? 0)}, gen ${r1(s.cpu)}), baseline ${r0(b.rps)} req/s (cpu ${r1(b.serverCpu ?? 0)}, gen ${r1(b.cpu)})`);
  }
  return out;
}

function pairRow(scenario: string, p: Pair, target?: number, bytes = false): number {
  const s = median(p.server.map((r) => r.rps));
  const b = median(p.baseline.map((r) => r.rps));
  const ratio = median(p.ratios);
  // CPU per request is less sensitive than req/s to other processes on a shared machine.
  const cpuUs = (rs: LoadResult[]) => r0(median(rs.map((r) => ((r.serverCpu ?? 0) / r.rps) * 1e6)));
  const extra = `${bytes ? `, ${mb(median(p.server.map((r) => r.bytesPerSec)))}/s` : ""}, ${cpuUs(p.server)} µs CPU/req`;
  const bextra = `${bytes ? `, ${mb(median(p.baseline.map((r) => r.bytesPerSec)))}/s` : ""}, ${cpuUs(p.baseline)} µs CPU/req`;
  rows.push({
    scenario,
    figure: `${r0(s)} req/s${extra}`,
    baseline: `${r0(b)} req/s${bextra}`,
    ratio: pct(ratio),
    ...(target !== undefined ? { target: `≥ ${pct(target)}`, verdict: verdict(ratio >= target) } : {}),
  });
  raw[scenario] = p;
  return s;
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? "?";
  return `nproc ${cpus().length}, ${cpu}, node ${process.version}`;
}

async function agentScenarios(): Promise<void> {
  const repo = repoFor({ configs: APPLIED, commits: APPLIED });
  const server = await startServer(repo, PROFILE ? ["--cpu-prof", "--cpu-prof-dir", RESULTS] : []);
  try {
    log("registering 10,000 agents");
    await register(server, 10_000);
    const versions = await versionsOf(server.port, 0);
    const clSame = pb.AgentGetConfigListRequest.encode(pb.AgentGetConfigListRequest.fromObject({ request_id: `cl-${agentId(0)}`, agent_id: agentId(0), config_versions: versions })).finish();
    const clNew = pb.AgentGetConfigListRequest.encode({ request_id: `cl-${agentId(0)}`, agent_id: agentId(0), config_versions: {} }).finish();
    const hb = pb.HeartBeatRequest.encode({ request_id: `hb-${agentId(0)}`, agent_id: agentId(0), tags: { env: "prod", region: "region-0", app: "app-0" } }).finish();
    const hbTemplate = await captured(server.port, "/Agent/HeartBeat", hb);
    const same = await startBaseline({ "/Agent/GetConfigList": await captured(server.port, "/Agent/GetConfigList", clSame), "/Agent/HeartBeat": hbTemplate });
    const fresh = await startBaseline({ "/Agent/GetConfigList": await captured(server.port, "/Agent/GetConfigList", clNew) });
    try {
      log("warm-up");
      for (const p of [server, same, fresh]) await load({ port: p.port, kind: "configList", agents: 10_000, versions, connections: CONNECTIONS, durationMs: DURATION_MS });
      await load({ port: server.port, kind: "heartbeat", agents: 10_000, connections: CONNECTIONS, durationMs: DURATION_MS });

      log("GetConfigList, 10 configs, all SAME, 10,000 agents");
      const samePeak = pairRow("GetConfigList SAME, 10k agents: peak", await peak(server, same, { kind: "configList", agents: 10_000, versions }, ROUNDS), 0.9);
      log(`  open loop at half of peak: ${r0(samePeak / 2)} req/s`);
      const half = await load({ port: server.port, kind: "configList", agents: 10_000, versions, connections: CONNECTIONS, rate: samePeak / 2, durationMs: DURATION_MS * 1.5, warmupMs: WARMUP_MS, watchPid: server.pid });
      const halfBase = await load({ port: same.port, kind: "configList", agents: 10_000, versions, connections: CONNECTIONS, rate: samePeak / 2, durationMs: DURATION_MS * 1.5, warmupMs: WARMUP_MS, watchPid: same.pid });
      raw["half-load"] = { server: half, baseline: halfBase };
      rows.push({
        scenario: `GetConfigList SAME, 10k agents: latency at half of peak (${r0(half.rps)} req/s)`,
        figure: `p50 ${half.latencyMs.p50} ms, p99 ${half.latencyMs.p99} ms, max ${half.latencyMs.max} ms`,
        baseline: `p50 ${halfBase.latencyMs.p50} ms, p99 ${halfBase.latencyMs.p99} ms`,
        target: "p99 ≤ 20 ms",
        verdict: verdict(half.latencyMs.p99 <= 20),
      });

      log("GetConfigList, 10 configs, all NEW");
      pairRow("GetConfigList NEW (content sent), 10k agents", await peak(server, fresh, { kind: "configList", agents: 10_000, versions: {} }, ROUNDS), undefined, true);

      log("HeartBeat, 10,000 agents");
      pairRow("HeartBeat, 10k agents", await peak(server, same, { kind: "heartbeat", agents: 10_000 }, ROUNDS), 0.9);

      await v1Scenario(server, versions);

      log("growth: 1,000 agents");
      pairRow("growth: GetConfigList SAME, 1k agents", await peak(server, same, { kind: "configList", agents: 1_000, versions }, GROWTH_ROUNDS));
      pairRow("growth: HeartBeat, 1k agents", await peak(server, same, { kind: "heartbeat", agents: 1_000 }, GROWTH_ROUNDS));
      log("growth: registering 100,000 agents");
      await register(server, 100_000);
      pairRow("growth: GetConfigList SAME, 100k agents", await peak(server, same, { kind: "configList", agents: 100_000, versions }, GROWTH_ROUNDS));
      pairRow("growth: HeartBeat, 100k agents", await peak(server, same, { kind: "heartbeat", agents: 100_000 }, GROWTH_ROUNDS));

      log("a commit in the served repo → visible in GetConfigList");
      await commitToVisible(server, repo, versions);
    } finally {
      await same.stop();
      await fresh.stop();
    }
  } finally {
    await server.stop();
  }
}

/**
 * Protocol v1 (LegacyCommonConfigProvider): 10,000 other agents heartbeat on the same
 * /Agent/HeartBeat as the alpha agents (so detection runs), each reporting its 10 configs at the
 * served versions: the answer has no check results. The baseline decodes the same v1 request and
 * encodes a v1 answer of the same size.
 */
async function v1Scenario(server: Proc, versions: Record<string, number>): Promise<void> {
  log("v1 HeartBeat, 10 configs reported (all current), 10,000 agents");
  const r = await load({ port: server.port, kind: "v1heartbeat", agents: 10_000, versions, connections: CONNECTIONS, once: true });
  if (r.errors) throw new Error(`v1 registration: ${r.errors} errors ${JSON.stringify(r.statuses)}`);
  const answer = await request(server.port, "POST", "/Agent/HeartBeat", v1Heartbeat(0, versions));
  const decoded = configserver.proto.v1.HeartBeatResponse.decode(answer.body);
  if (answer.status !== 200 || decoded.pipeline_check_results.length > 0) throw new Error(`the v1 heartbeat is not current: ${answer.status}, ${decoded.pipeline_check_results.length} check results`);
  const base = await startBaseline({ "/Agent/HeartBeat": answer.body.toString("base64") }, true);
  try {
    for (const p of [server, base]) await load({ port: p.port, kind: "v1heartbeat", agents: 10_000, versions, connections: CONNECTIONS, durationMs: DURATION_MS });
    pairRow("v1 HeartBeat, 10 configs reported (all current), 10k agents", await peak(server, base, { kind: "v1heartbeat", agents: 10_000, versions }, ROUNDS), 0.9);
  } finally {
    await base.stop();
  }
}

async function commitToVisible(server: Proc, repo: string, versions: Record<string, number>): Promise<void> {
  const attempts = QUICK ? 4 : 10;
  const timeoutMs = 3000;
  const seen: number[] = [];
  let missed = 0;
  let known = { ...versions };
  const target = configName(0);
  for (let k = 0; k < attempts; k++) {
    writeFileSync(join(repo, "configs", `${target}.yaml`), configYaml(0, 500_000 + k));
    git(repo, ["commit", "-q", "-a", "-m", `bench commit ${k}`]);
    const t0 = performance.now();
    let ms: number | undefined;
    while (performance.now() - t0 < timeoutMs) {
      const v = await versionsOf(server.port, 0);
      if (v[target] !== known[target]) {
        ms = performance.now() - t0;
        known = v;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    if (ms === undefined) {
      missed++;
      log(`  commit ${k}: not visible within ${timeoutMs} ms`);
      if (missed >= 2 && seen.length === 0) break; // the server does not follow commits: stop early
    } else {
      seen.push(ms);
      log(`  commit ${k}: visible after ${r0(ms)} ms`);
    }
    await new Promise((r) => setTimeout(r, 300)); // let a watcher settle between commits
  }
  raw["commit-to-visible"] = { seen, missed };
  const p50 = seen.length ? median(seen) : NaN;
  const max = seen.length ? Math.max(...seen) : NaN;
  rows.push({
    scenario: "commit in the served repo → visible in GetConfigList",
    figure: seen.length ? `p50 ${r0(p50)} ms, max ${r0(max)} ms (${seen.length} commits${missed ? `, ${missed} not seen in ${timeoutMs} ms` : ""})` : `not visible within ${timeoutMs} ms (${missed} commits)`,
    target: "p50 ≤ 300 ms, max ≤ 1 s",
    verdict: verdict(seen.length > 0 && missed === 0 && p50 <= 300 && max <= 1000),
  });
}

async function memoryScenario(): Promise<void> {
  const repo = repoFor({ configs: APPLIED, commits: APPLIED });
  const server = await startServer(repo);
  try {
    // Idle: started and lightly warmed (one agent), nothing registered beyond it.
    await register(server, 1);
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rss(server.pid);
    const heapIdle = await heapUsed(server.port);
    log("memory: 100,000 agents, 3 tags each");
    await register(server, 100_000);
    await new Promise((r) => setTimeout(r, 1000));
    const afterHb = rss(server.pid);
    const heapHb = await heapUsed(server.port);
    const versions = await versionsOf(server.port, 0);
    await load({ port: server.port, kind: "configList", agents: 100_000, versions, connections: CONNECTIONS, once: true });
    await new Promise((r) => setTimeout(r, 1000));
    const afterPoll = rss(server.pid);
    const heapPoll = await heapUsed(server.port);
    raw.memory = { idle, afterHb, afterPoll, heapIdle, heapHb, heapPoll };
    rows.push({
      scenario: "memory: 100,000 agents × 3 tags (RSS above idle)",
      figure: `+${mb(afterHb - idle)} after heartbeats, +${mb(afterPoll - idle)} after one poll each (idle ${mb(idle)}); V8 heap used +${mb(heapHb - heapIdle)} / +${mb(heapPoll - heapIdle)}`,
      target: "≤ 150 MB",
      verdict: verdict(Math.max(afterHb, afterPoll) - idle <= 150 * 1048576),
    });
  } finally {
    await server.stop();
  }
}

/** nodejs_heap_size_used_bytes from the server's /metrics (live objects plus garbage not yet collected). */
async function heapUsed(port: number): Promise<number> {
  const r = await request(port, "GET", "/metrics", new Uint8Array());
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(r.body.toString())?.[1] ?? NaN);
}

function storeChild(repo: string, reloads: number, writes: number, profile: boolean): Promise<StoreResult> {
  return new Promise((resolve, reject) => {
    const flags = profile ? ["--cpu-prof", "--cpu-prof-dir", RESULTS] : [];
    const child = spawn(process.execPath, [...flags, "--import", "tsx", "bench/store.ts", JSON.stringify({ repo, reloads, writes })], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}") as StoreResult) : reject(new Error(`bench/store.ts exited ${code}`))));
  });
}

/**
 * Sequential UpdateConfig writes, each to another of the 1,000 configs. The first `warmup` after a
 * start pay for JIT compilation and reading the tree listings once: timed, reported apart.
 */
async function timedWrites(port: number, writes: number, warmup: number): Promise<{ lat: number[]; first: number[]; wps: number }> {
  const lat: number[] = [];
  const first: number[] = [];
  let t1 = 0;
  const salt = Date.now() % 100_000;
  for (let k = 0; k < warmup + writes; k++) {
    if (k === warmup) t1 = performance.now();
    const i = (k * 7919) % 1000;
    const body = pb.UpdateConfigRequest.encode({
      request_id: `w${k}`,
      config_detail: { config_name: configName(i), agent_type: "ilogtail", description: `bench config ${i}`, content: `${configYaml(i, salt * 10_000 + k)}` },
    }).finish();
    const s = performance.now();
    const r = await request(port, "PUT", "/User/UpdateConfig", body);
    (k < warmup ? first : lat).push(performance.now() - s);
    if (r.status !== 200) throw new Error(`UpdateConfig answered ${r.status}: ${pb.UpdateConfigResponse.decode(r.body).message}`);
  }
  return { lat, first, wps: writes / ((performance.now() - t1) / 1000) };
}

async function writeScenarios(): Promise<void> {
  const writes = QUICK ? 60 : 200;
  const warmup = 5;
  for (const commits of QUICK ? [100, 10_000] : [100, 1_000, 10_000]) {
    const repo = repoFor({ configs: 1000, commits });
    const t0 = performance.now();
    const server = await startServer(repo);
    const coldMs = performance.now() - t0;
    let timed: Awaited<ReturnType<typeof timedWrites>>;
    try {
      timed = await timedWrites(server.port, writes, warmup);
    } finally {
      await server.stop();
    }
    const { lat, first, wps } = timed;
    const reloadsLogged = server.lines.filter((l) => l.msg === "serving new commit").map((l) => Number(l.ms));
    // A restart: the stop above saved the version index in .git, so only new commits are walked.
    const t2 = performance.now();
    const again = await startServer(repo);
    const restartMs = performance.now() - t2;
    await again.stop();
    // The in-process timings below measure a first open, as the cold start above was.
    rmSync(join(repo, ".git", "configserver"), { recursive: true, force: true });
    const st = await storeChild(repo, QUICK ? 3 : 8, QUICK ? 20 : 50, PROFILE && commits === 10_000);
    raw[`writes-${commits}`] = { lat, first, wps, reloadsLogged, coldMs, restartMs, store: st };
    const reload = median(st.reloads.map((r) => r.totalMs));
    const git = (xs: StoreResult["reloads"]) => {
      const names = new Set(xs.flatMap((r) => Object.keys(r.gitMs)));
      return [...names].map((n) => `${n} ${r0(median(xs.map((r) => r.gitMs[n] ?? 0)))}`).join(", ");
    };
    rows.push({
      scenario: `sequential User API writes (UpdateConfig), 1,000 configs, ${commits} commits`,
      figure: `${r1(wps)} writes/s over ${writes} writes (p50 ${r1(median(lat))} ms, p99 ${r1(percentile(lat, 0.99))} ms, max ${r0(Math.max(...lat))} ms); first ${warmup} after start: ${first.map(r0).join(", ")} ms; in-process: ${r1(median(st.writes.map((w) => w.totalMs)))} ms/write, git ms: ${git(st.writes) || "none (in-process commit)"}`,
      target: "≥ 50 writes/s",
      verdict: verdict(wps >= 50),
    });
    rows.push({
      scenario: `snapshot reload after one new commit, 1,000 configs, ${commits} commits`,
      figure: `${r0(reload)} ms (server log after writes: p50 ${r0(median(reloadsLogged))} ms); git ms: ${git(st.reloads)}; YAML parse+validate of all files ${r0(st.parseMs)} ms, RepoState ${r1(st.stateMs)} ms`,
      target: "≤ 50 ms",
      verdict: verdict(reload <= 50),
    });
    rows.push({
      scenario: `cold start, 1,000 configs, ${commits} commits`,
      figure: `spawn → listening ${r0(coldMs)} ms (restart with the saved version index: ${r0(restartMs)} ms); RepoStore.open ${r0(st.openMs)} ms (git ms: ${Object.entries(st.openGitMs).map(([k, v]) => `${k} ${r0(v)}`).join(", ")})`,
      target: "≤ 3 s",
      verdict: verdict(coldMs <= 3000),
    });
    log(`  ${commits} commits: ${r1(wps)} writes/s, reload ${r0(reload)} ms, cold ${r0(coldMs)} ms`);
  }
}

/**
 * Writes with a remote: each is pushed before it is answered, so this measures `git push` to a
 * local bare repository over file:// (no network) on top of the commit. Reported, no target.
 */
async function remoteWriteScenario(): Promise<void> {
  const writes = QUICK ? 20 : 60;
  const template = repoFor({ configs: 1000, commits: 100 });
  const bare = mkdtempSync(join(work, "bare-"));
  git(bare, ["clone", "-q", "--bare", template, "."]);
  const clone = join(mkdtempSync(join(work, "clone-")), "repo");
  const server = await startServer(clone, [], ROOT, ["--remote", `file://${bare}`, "--sync-interval", "1h"]);
  let timed: Awaited<ReturnType<typeof timedWrites>>;
  try {
    timed = await timedWrites(server.port, writes, 3);
  } finally {
    await server.stop();
  }
  const { lat, wps } = timed;
  raw["writes-remote"] = timed;
  rows.push({
    scenario: "sequential User API writes with a remote (each pushed before the answer; local bare repository over file://), 1,000 configs",
    figure: `${r1(wps)} writes/s over ${writes} writes (p50 ${r1(median(lat))} ms, p99 ${r1(percentile(lat, 0.99))} ms)`,
    target: "reported",
    verdict: "",
  });
  log(`  with a remote: ${r1(wps)} writes/s`);
}

function table(): string {
  const lines = ["| scenario | result | baseline | ratio | target | verdict |", "|---|---|---|---|---|---|"];
  for (const r of rows) lines.push(`| ${r.scenario} | ${r.figure} | ${r.baseline ?? ""} | ${r.ratio ?? ""} | ${r.target ?? ""} | ${r.verdict ?? ""} |`);
  return lines.join("\n");
}

const started = performance.now();
mkdirSync(RESULTS, { recursive: true });
const load1 = () => loadavg().map((x) => x.toFixed(1)).join(" ");
log(`load average ${load1()} (other processes share these cores: compare ratios, not absolute figures)`);
log(`${machine()}; ${QUICK ? "quick" : "full"} mode, ${ROUNDS} rounds × ${DURATION_MS} ms, ${CONNECTIONS} connections; work dir ${work}`);
try {
  if (ONLY.has("agent")) await agentScenarios();
  if (ONLY.has("memory")) await memoryScenario();
  if (ONLY.has("writes")) {
    await writeScenarios();
    await remoteWriteScenario();
  }
} finally {
  const out = table();
  console.log(`\n${machine()}; ${QUICK ? "BENCH_QUICK=1" : "full"} run, ${r0((performance.now() - started) / 1000)} s; load average at the end ${load1()}\n\n${out}\n`);
  const file = join(RESULTS, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ machine: machine(), quick: QUICK, rows, raw }, null, 1));
  log(`raw results: ${file}`);
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
