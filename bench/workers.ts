// Workers (BENCHMARKS.md, "Workers"): every agent route of every protocol (alpha, v1, v2) against
// the real server at --workers 1 and --workers 2 and a bare single-process node:http + protobufjs
// server doing the same decode/encode (bench/bareBaseline.ts), measured in the same run, in rotating order; the
// load generator's own CPU; scaling efficiency per worker; memory per worker; commit → visible on
// every worker.
// Run: node --import tsx bench/workers.ts        (about 15 minutes)
//      BENCH_QUICK=1 (2 rounds × 2 s)   BENCH_ONLY=throughput,memory,visible   BENCH_SCENARIOS=alpha-same,v1-heartbeat,v2-heartbeat
//      BENCH_PROFILE=1: CPU profiles of both servers' processes (primary and workers) in bench/results/
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { configserver } from "../src/gen/proto.js";
import { agentId, APPLIED, buildRepo, configName, configYaml, ENVS, git } from "./fleet.ts";
import type { BodyKind, LoadResult, LoadSpec } from "./loadgen.ts";
import { load, request, ROOT, rss, startBareBaseline, startServer } from "./proc.ts";
import { median, r0, r1, r2 } from "./stats.ts";

const pb = configserver.proto;
const QUICK = process.env.BENCH_QUICK === "1";
const ROUNDS = QUICK ? 2 : 3;
const DURATION_MS = QUICK ? 2000 : 4000;
const WARMUP_MS = QUICK ? 500 : 1000;
const CONNECTIONS = 64;
const AGENTS = 10_000;
const V2_OFFSET = 100_000;
const ONLY = new Set((process.env.BENCH_ONLY ?? "throughput,memory,visible").split(",").map((s) => s.trim()));
const work = mkdtempSync(join(tmpdir(), "configserver-bench-workers-"));
const log = (...a: unknown[]) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const mb = (b: number) => `${r0(b / 1048576)} MB`;
const load1 = () => r1(loadavg()[0] as number);
const rows: string[] = [];
const raw: Record<string, unknown> = {};

const INSTANCE = "inst-0000";

/** The bench fleet's repository (10 configs per agent) plus one instance config bound to every env group, for v2. */
function template(): string {
  const dir = join(work, "template");
  buildRepo(dir, { configs: APPLIED, commits: APPLIED });
  mkdirSync(join(dir, "instance_configs"), { recursive: true });
  writeFileSync(join(dir, "instance_configs", `${INSTANCE}.yaml`), `config_name: ${INSTANCE}\ndescription: bench instance config\ncontent: |\n  max_bytes_per_sec: 20971520\n`);
  for (const env of ENVS) {
    const base = Array.from({ length: 6 }, (_, i) => `  - ${configName(i)}\n`).join("");
    writeFileSync(join(dir, "agent_groups", `env-${env}.yaml`), `group_name: env-${env}\ndescription: bench group\ntags:\n  - name: env\n    value: ${env}\nconfigs:\n${base}instance_configs:\n  - ${INSTANCE}\n`);
  }
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", "instance config for v2 agents"]);
  return dir;
}

const TEMPLATE = template();
function repoCopy(): string {
  const dir = mkdtempSync(join(work, "repo-"));
  cpSync(TEMPLATE, dir, { recursive: true });
  return dir;
}

/** The worker processes of a server started with --workers (its primary's children). */
function children(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface Target {
  readonly name: string;
  readonly port: number;
  readonly pids: number[];
  stop(): Promise<void>;
}

const PROFILE = process.env.BENCH_PROFILE === "1";

async function server(workers: number): Promise<Target> {
  // Workers inherit the primary's node flags: each process writes its own profile when it stops.
  const p = await startServer(repoCopy(), PROFILE ? ["--cpu-prof", "--cpu-prof-dir", join(ROOT, "bench", "results")] : [], ROOT, ["--workers", String(workers)]);
  const pids = workers > 1 ? [p.pid, ...children(p.pid)] : [p.pid];
  if (pids.length !== (workers > 1 ? workers + 1 : 1)) throw new Error(`expected ${workers} workers, found processes ${pids.join(", ")}`);
  return { name: `--workers ${workers}`, port: p.port, pids, stop: () => p.stop() };
}

async function bare(templates: Record<string, string>, v1: boolean): Promise<Target> {
  const p = await startBareBaseline(templates, v1);
  return { name: "bare node:http", port: p.port, pids: [p.pid], stop: () => p.stop() };
}

interface Scenario {
  readonly key: string;
  readonly label: string;
  readonly kind: BodyKind;
  readonly path: string;
  /** The baseline speaks v1 on the paths v1 shares. */
  readonly v1?: true;
  readonly offset: number;
  /** versions (pipeline, instance) the agents report: current, or none. */
  readonly current: boolean;
  readonly target?: number;
}

const SCENARIOS: Scenario[] = [
  { key: "alpha-heartbeat", label: "alpha HeartBeat", kind: "heartbeat", path: "/Agent/HeartBeat", offset: 0, current: false },
  { key: "alpha-same", label: "alpha GetConfigList SAME (10 configs)", kind: "configList", path: "/Agent/GetConfigList", offset: 0, current: true, target: 1.25 },
  { key: "alpha-new", label: "alpha GetConfigList NEW (10 configs sent)", kind: "configList", path: "/Agent/GetConfigList", offset: 0, current: false },
  { key: "alpha-statistics", label: "alpha RunningStatistics", kind: "statistics", path: "/Agent/RunningStatistics", offset: 0, current: false },
  { key: "alpha-alarm", label: "alpha Alarm", kind: "alarm", path: "/Agent/Alarm", offset: 0, current: false },
  { key: "v1-heartbeat", label: "v1 HeartBeat (10 current configs, 1 agent config)", kind: "v1heartbeat", path: "/Agent/HeartBeat", v1: true, offset: 0, current: true, target: 1.25 },
  { key: "v1-fetch-pipeline", label: "v1 FetchPipelineConfig (10 configs)", kind: "v1fetchPipeline", path: "/Agent/FetchPipelineConfig", v1: true, offset: 0, current: true },
  { key: "v1-fetch-agent", label: "v1 FetchAgentConfig (1 agent config)", kind: "v1fetchAgent", path: "/Agent/FetchAgentConfig", v1: true, offset: 0, current: true },
  { key: "v2-heartbeat", label: "v2 Heartbeat (10 current configs, 1 instance config)", kind: "v2heartbeat", path: "/Agent/Heartbeat", offset: V2_OFFSET, current: true, target: 1.25 },
  { key: "v2-fetch-pipeline", label: "v2 FetchPipelineConfig (10 configs)", kind: "v2fetchPipeline", path: "/Agent/FetchPipelineConfig", offset: V2_OFFSET, current: true },
  { key: "v2-fetch-instance", label: "v2 FetchInstanceConfig (1 instance config)", kind: "v2fetchInstance", path: "/Agent/FetchInstanceConfig", offset: V2_OFFSET, current: true },
  { key: "v2-report", label: "v2 ReportStatus (10 configs APPLIED)", kind: "v2report", path: "/Agent/ReportStatus", offset: V2_OFFSET, current: true },
];

async function versionsOf(port: number): Promise<{ pipelines: Record<string, number>; instances: Record<string, number> }> {
  const r = await request(port, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ agent_id: agentId(0) }).finish());
  const m = pb.AgentGetConfigListResponse.decode(r.body);
  if (r.status !== 200) throw new Error(`GetConfigList answered ${r.status}: ${m.message}`);
  const hb = await request(port, "POST", "/Agent/Heartbeat", pb.v2.HeartbeatRequest.encode(pb.v2.HeartbeatRequest.fromObject({ instance_id: Buffer.from(agentId(V2_OFFSET)), capabilities: 3, tags: [{ name: "env", value: "prod" }] })).finish());
  const h = pb.v2.HeartbeatResponse.decode(hb.body);
  return {
    pipelines: Object.fromEntries(m.config_update_infos.map((i) => [i.config_name ?? "", Number(i.config_version)])),
    instances: Object.fromEntries(h.instance_config_updates.map((i) => [i.name ?? "", Number(i.version)])),
  };
}

type Versions = Awaited<ReturnType<typeof versionsOf>>;
const specOf = (s: Scenario, v: Versions): Omit<LoadSpec, "port" | "connections"> => ({
  kind: s.kind, agents: AGENTS, offset: s.offset, ...(s.current ? { versions: v.pipelines, instanceVersions: v.instances } : { versions: {} }),
});

/** 10,000 alpha agents (heartbeat, then a poll reporting the served versions), 10,000 v2 and 10,000 v1 agents holding them; returns those versions. */
async function registered(t: Target): Promise<Versions> {
  const go = async (kind: BodyKind, offset: number, extra: Partial<LoadSpec> = {}) => {
    const r = await load({ port: t.port, kind, agents: AGENTS, offset, connections: CONNECTIONS, once: true, ...extra });
    if (r.errors) throw new Error(`${t.name}: registering ${kind}: ${JSON.stringify(r.statuses)}`);
  };
  await go("heartbeat", 0);
  const versions = await versionsOf(t.port);
  await go("configList", 0, { versions: versions.pipelines });
  await go("v2heartbeat", V2_OFFSET, { versions: versions.pipelines, instanceVersions: versions.instances });
  await go("v1heartbeat", 0, { versions: versions.pipelines, instanceVersions: versions.instances });
  return versions;
}

async function captured(t: Target, s: Scenario, v: Versions): Promise<string> {
  const [req] = (await import("./loadgen.ts")).encodeRequests({ ...specOf(s, v), agents: 1 });
  const body = (req as Buffer).subarray((req as Buffer).indexOf("\r\n\r\n") + 4);
  const r = await request(t.port, "POST", s.path, body);
  if (r.status !== 200) throw new Error(`${s.path} answered ${r.status}`);
  return r.body.toString("base64");
}

interface Measured {
  r: LoadResult;
  /** Server CPU µs per request (all its processes). */
  us: number;
}

async function measure(t: Target, spec: Omit<LoadSpec, "port" | "connections">): Promise<Measured> {
  const r = await load({ ...spec, port: t.port, connections: CONNECTIONS, durationMs: DURATION_MS, warmupMs: WARMUP_MS, watchPids: t.pids });
  if (r.errors) throw new Error(`${t.name}: errors under load ${JSON.stringify(r.statuses)}`);
  return { r, us: ((r.serverCpu ?? 0) / r.rps) * 1e6 };
}

async function throughput(w1: Target, w2: Target, v: Versions): Promise<void> {
  const pick = (process.env.BENCH_SCENARIOS ?? "").split(",").filter(Boolean);
  rows.push("| route | bare node:http | --workers 1 | --workers 2 | w2 ÷ bare (rounds) | w1 ÷ bare | scaling efficiency (w2 ÷ 2·w1) | CPU µs/req bare · w1 · w2 | generator CPU (bare · w1 · w2) | target | verdict |");
  rows.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
  for (const s of SCENARIOS) {
    if (pick.length > 0 && !pick.includes(s.key)) continue;
    const spec = specOf(s, v);
    const b = await bare({ [s.path]: await captured(w1, s, v) }, s.v1 === true);
    const results: Record<string, Measured[]> = { bare: [], w1: [], w2: [] };
    const ratios: number[] = [];
    const ratios1: number[] = [];
    const scaling: number[] = [];
    try {
      const targets: [string, Target][] = [["bare", b], ["w1", w1], ["w2", w2]];
      for (let i = 0; i < ROUNDS; i++) {
        const order = [...targets.slice(i % 3), ...targets.slice(0, i % 3)];
        const got: Record<string, Measured> = {};
        for (const [k, t] of order) got[k] = await measure(t, spec);
        for (const [k, m] of Object.entries(got)) results[k]?.push(m);
        const [gb, g1, g2] = [got.bare as Measured, got.w1 as Measured, got.w2 as Measured];
        ratios.push(g2.r.rps / gb.r.rps);
        ratios1.push(g1.r.rps / gb.r.rps);
        scaling.push(g2.r.rps / (2 * g1.r.rps));
        log(`  ${s.label} round ${i + 1} (load ${load1()}): bare ${r0(gb.r.rps)}, w1 ${r0(g1.r.rps)}, w2 ${r0(g2.r.rps)} req/s; w2 procs cpu ${(g2.r.pidCpu ?? []).map(r2).join(" ")}, gen ${r2(g2.r.cpu)}`);
      }
    } finally {
      await b.stop();
    }
    const rps = (k: string) => r0(median((results[k] as Measured[]).map((m) => m.r.rps)));
    const us = (k: string) => r1(median((results[k] as Measured[]).map((m) => m.us)));
    const gen = (k: string) => r2(median((results[k] as Measured[]).map((m) => m.r.cpu)));
    const ratio = median(ratios);
    const ok = s.target === undefined ? "" : ratio >= s.target ? "met" : `MISSED by ${r0((s.target - ratio) * 100)} points`;
    rows.push(`| ${s.label} | ${rps("bare")} | ${rps("w1")} | ${rps("w2")} | **${r2(ratio)}** (${ratios.map(r2).join(", ")}) | ${r2(median(ratios1))} | ${r0(median(scaling) * 100)} % | ${us("bare")} · ${us("w1")} · ${us("w2")} | ${gen("bare")} · ${gen("w1")} · ${gen("w2")} | ${s.target ? `≥ ${s.target} × bare` : ""} | ${ok} |`);
    raw[s.key] = { results, ratios, ratios1, scaling };
  }
}

async function memory(w1: Target, w2: Target, label: string): Promise<void> {
  const mem = (t: Target) => t.pids.map((p) => rss(p));
  const [one] = mem(w1);
  const [primary, ...workers] = mem(w2);
  rows.push(`| RSS, ${label} | ${mb(one as number)} | primary ${mb(primary as number)}, workers ${workers.map(mb).join(", ")} (total ${mb((primary as number) + workers.reduce((a, b) => a + b, 0))}) |`);
  raw[`memory ${label}`] = { one, primary, workers };
}

/** One GetConfigList on a new connection (node:cluster hands each to the next worker). */
function poll(port: number, versions: Record<string, number>): Promise<Record<string, number>> {
  const body = pb.AgentGetConfigListRequest.encode(pb.AgentGetConfigListRequest.fromObject({ agent_id: agentId(0), config_versions: versions })).finish();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: "POST", path: "/Agent/GetConfigList", agent: false, headers: { "content-type": "application/x-protobuf", "content-length": body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(Object.fromEntries(pb.AgentGetConfigListResponse.decode(Buffer.concat(chunks)).config_update_infos.filter((i) => i.update_status === pb.ConfigUpdateInfo.UpdateStatus.MODIFIED).map((i) => [i.config_name ?? "", Number(i.config_version)]))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function workerCommits(port: number): Promise<(string | null)[]> {
  const r = await fetch(`http://127.0.0.1:${port}/status`);
  const s = (await r.json()) as { commit: string; workers: { commit: string | null }[] | null };
  return s.workers === null ? [s.commit] : s.workers.map((w) => w.commit);
}

/**
 * A person's `git commit` in the served repository → every worker serves it (each said so, in
 * /status) and agents see it: 4 polls at once on new connections (2 per worker) all find the
 * config MODIFIED.
 */
async function commitToVisible(t: Target, repo: string, v: Versions, label: string): Promise<void> {
  const attempts = QUICK ? 5 : 20;
  const seen: number[] = [];
  const target = configName(0);
  for (let k = 0; k < attempts; k++) {
    writeFileSync(join(repo, "configs", `${target}.yaml`), configYaml(0, 700_000 + k));
    git(repo, ["commit", "-q", "-a", "-m", `bench commit ${k}`]);
    const head = git(repo, ["rev-parse", "HEAD"]).trim();
    const t0 = performance.now();
    for (;;) {
      const [commits, polls] = await Promise.all([workerCommits(t.port), Promise.all(Array.from({ length: 4 }, () => poll(t.port, v.pipelines)))]);
      if (commits.every((c) => c === head) && polls.every((p) => p[target] !== undefined)) break;
      if (performance.now() - t0 > 10_000) throw new Error(`${label}: commit ${k} not visible within 10 s`);
      await new Promise((r) => setTimeout(r, 2));
    }
    seen.push(performance.now() - t0);
    // Let the watcher settle between commits (as bench/run.ts does).
    await new Promise((r) => setTimeout(r, 300));
  }
  const p50 = median(seen);
  const max = Math.max(...seen);
  rows.push(`| commit → visible, ${label} (${seen.length} commits) | p50 ${r0(p50)} ms, max ${r0(max)} ms | ${label.includes("2") ? `p50 ≤ 300 ms, max ≤ 1 s: ${p50 <= 300 && max <= 1000 ? "met" : "MISSED"}` : "(today's bound)"} |`);
  raw[`visible ${label}`] = seen;
}

log(`machine: nproc ${cpus().length}, ${cpus()[0]?.model}, node ${process.version}, load ${loadavg().map(r1).join(" ")}`);
const startLoad = loadavg().map(r1).join(" ");
const w1 = await server(1);
const w2 = await server(2);
try {
  log("registering 10,000 alpha, 10,000 v1 and 10,000 v2 agents on each server");
  const v = await registered(w1);
  await registered(w2);
  if (ONLY.has("throughput")) await throughput(w1, w2, v);
  if (ONLY.has("memory")) {
    rows.push("", "| memory | --workers 1 | --workers 2 |", "|---|---|---|");
    await memory(w1, w2, "30,000 agents (after the throughput runs)");
    log("registering 100,000 more v2 agents on each server");
    for (const t of [w1, w2]) await load({ port: t.port, kind: "v2heartbeat", agents: 100_000, offset: 200_000, versions: v.pipelines, instanceVersions: v.instances, connections: CONNECTIONS, once: true });
    await new Promise((r) => setTimeout(r, 2000));
    await memory(w1, w2, "130,000 agents");
  }
} finally {
  await w1.stop();
  await w2.stop();
}
if (ONLY.has("visible")) {
  rows.push("", "| commit → visible | figure | target |", "|---|---|---|");
  for (const workers of [1, 2]) {
    const repo = repoCopy();
    const p = await startServer(repo, [], ROOT, ["--workers", String(workers)]);
    const t: Target = { name: `--workers ${workers}`, port: p.port, pids: [p.pid], stop: () => p.stop() };
    try {
      await commitToVisible(t, repo, await registered(t), `--workers ${workers}`);
    } finally {
      await t.stop();
    }
  }
}
rmSync(work, { recursive: true, force: true });
console.log(`\n${rows.join("\n")}`);
console.log(`\nload average at the start: ${startLoad}; at the end: ${loadavg().map(r1).join(" ")}`);
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(join(ROOT, "bench", "results", `workers-${new Date().toISOString().replace(/[:.]/g, "-")}.json`), JSON.stringify(raw));
