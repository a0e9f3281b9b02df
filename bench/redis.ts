// Replicas and Redis (BENCHMARKS.md): the shared registry against the in-memory one, Redis memory
// per agent, commit fan-out latency and a fleet of 1,000,000 agents across 3 replicas.
// Run: node --import tsx bench/redis.ts            (all, about 10 minutes)
//      BENCH_ONLY=throughput,memory,fanout,million  (any of them)   BENCH_QUICK=1 (2 rounds × 2 s)
//      BENCH_MILLION=200000                         (a smaller "million")
// Everything is a real process: Debian's redis-server on a free port (no persistence), the
// server as `bin/configserver serve`, the load generator of bench/loadgen.ts.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { decodeStored } from "../src/agents/agentCodec.ts";
import { configserver } from "../src/gen/proto.js";
import { agentId, APPLIED, buildRepo, configContent, configName } from "./fleet.ts";
import { procCpuSeconds, type LoadResult, type LoadSpec } from "./loadgen.ts";
import { load, request, ROOT, rss, startServer, type Proc } from "./proc.ts";
import { median, r0, r1 } from "./stats.ts";

const pb = configserver.proto;
const QUICK = process.env.BENCH_QUICK === "1";
const ROUNDS = QUICK ? 2 : 5;
const DURATION_MS = QUICK ? 2000 : 4000;
const WARMUP_MS = QUICK ? 500 : 1000;
const CONNECTIONS = 64;
const AGENTS = 10_000;
const MILLION = Number(process.env.BENCH_MILLION ?? 1_000_000);
const ONLY = new Set((process.env.BENCH_ONLY ?? "throughput,memory,fanout,million").split(",").map((s) => s.trim()));
const work = mkdtempSync(join(tmpdir(), "configserver-bench-redis-"));
const log = (...a: unknown[]) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const rows: string[] = [];
const raw: Record<string, unknown> = {};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface RedisProc {
  readonly url: string;
  readonly pid: number;
  readonly client: Redis;
  usedMemory(): Promise<number>;
  stop(): Promise<void>;
}

async function startRedis(): Promise<RedisProc> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  const url = `redis://127.0.0.1:${port}/0`;
  const client = new Redis(url);
  return {
    url,
    pid: child.pid as number,
    client,
    usedMemory: async () => Number(/used_memory:(\d+)/.exec(await client.info("memory"))?.[1]),
    stop: async () => {
      client.disconnect();
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

const template = join(work, "template");
buildRepo(template, { configs: APPLIED, commits: APPLIED });
function repoCopy(): string {
  const dir = mkdtempSync(join(work, "repo-"));
  cpSync(template, dir, { recursive: true });
  return dir;
}

async function versionsOf(port: number): Promise<Record<string, number>> {
  const r = await request(port, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ agent_id: agentId(0) }).finish());
  const m = pb.AgentGetConfigListResponse.decode(r.body);
  if (r.status !== 200) throw new Error(`GetConfigList answered ${r.status}: ${m.message}`);
  return Object.fromEntries(m.config_update_infos.map((i) => [i.config_name ?? "", Number(i.config_version)]));
}

async function once(port: number, kind: LoadSpec["kind"], agents: number, offset = 0, versions?: Record<string, number>): Promise<LoadResult> {
  const r = await load({ port, kind, agents, offset, connections: CONNECTIONS, once: true, ...(versions ? { versions } : {}) });
  if (r.errors) throw new Error(`registration: ${r.errors} errors ${JSON.stringify(r.statuses)}`);
  return r;
}

async function statusOf(port: number): Promise<Record<string, unknown>> {
  const r = await fetch(`http://127.0.0.1:${port}/status`);
  return (await r.json()) as Record<string, unknown>;
}

/** Waits until Redis's write log holds `n` agents (every replica has written behind). */
async function written(redis: RedisProc, n: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await redis.client.zcard("cs:log")) < n) {
    if (Date.now() > deadline) throw new Error(`only ${await redis.client.zcard("cs:log")} of ${n} agents in Redis`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function throughput(): Promise<void> {
  const redis = await startRedis();
  const memory = await startServer(repoCopy(), [], ROOT, ["--registry", "memory"]);
  const shared = await startServer(repoCopy(), [], ROOT, ["--registry", redis.url]);
  try {
    const v2Offset = 100_000;
    for (const s of [memory, shared]) {
      await once(s.port, "heartbeat", AGENTS);
      const versions = await versionsOf(s.port);
      await once(s.port, "v2heartbeat", AGENTS, v2Offset, versions);
    }
    const versions = await versionsOf(shared.port);
    for (const kind of ["heartbeat", "v2heartbeat"] as const) {
      const label = kind === "heartbeat" ? "alpha HeartBeat" : "v2 Heartbeat (3 tags, 10 configs APPLIED)";
      const ratios: number[] = [];
      const mem: LoadResult[] = [];
      const red: LoadResult[] = [];
      const redisCpu: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const run = async (p: Proc) => {
          const c0 = procCpuSeconds(redis.pid);
          const t0 = performance.now();
          const r = await load({ port: p.port, kind, agents: AGENTS, offset: kind === "heartbeat" ? 0 : v2Offset, versions, connections: CONNECTIONS, durationMs: DURATION_MS, warmupMs: WARMUP_MS, watchPid: p.pid });
          if (r.errors) throw new Error(`errors under load: ${JSON.stringify(r.statuses)}`);
          return { r, redisCpu: (procCpuSeconds(redis.pid) - c0) / ((performance.now() - t0) / 1000) };
        };
        let m: LoadResult;
        let s: { r: LoadResult; redisCpu: number };
        if (i % 2 === 0) {
          m = (await run(memory)).r;
          s = await run(shared);
        } else {
          s = await run(shared);
          m = (await run(memory)).r;
        }
        mem.push(m);
        red.push(s.r);
        redisCpu.push(s.redisCpu);
        ratios.push(s.r.rps / m.rps);
        log(`  ${label} round ${i + 1}: redis registry ${r0(s.r.rps)} req/s (server cpu ${r1(s.r.serverCpu ?? 0)}, redis cpu ${r1(s.redisCpu)}), memory ${r0(m.rps)} req/s (cpu ${r1(m.serverCpu ?? 0)})`);
      }
      const cpuUs = (rs: LoadResult[]) => r0(median(rs.map((r) => ((r.serverCpu ?? 0) / r.rps) * 1e6)));
      const ratio = median(ratios);
      // Req/s moves with whatever else runs on the machine; CPU per request much less. The CPU
      // ratio is the throughput ratio of two servers that each had a core to themselves.
      const redisUs = r0(median(red.map((r, k) => ((redisCpu[k] as number) / r.rps) * 1e6)));
      const cpuRatio = cpuUs(mem) / cpuUs(red);
      rows.push(`| ${label}, ${AGENTS.toLocaleString("en")} agents: peak | **${r0(ratio * 100)} %** (${r0(median(red.map((r) => r.rps)))} vs ${r0(median(mem.map((r) => r.rps)))} req/s; per-round ratios ${ratios.map((x) => r0(x * 100)).join(", ")}); server CPU/req ${cpuUs(red)} vs ${cpuUs(mem)} µs = **${r0(cpuRatio * 100)} %** (${r0((cpuUs(mem) / (cpuUs(red) + redisUs)) * 100)} % counting redis-server's ${redisUs} µs/req, ${r1(median(redisCpu))} core); p99 ${r1(median(red.map((r) => r.latencyMs.p99)))} vs ${r1(median(mem.map((r) => r.latencyMs.p99)))} ms | ≥ 80 % | ${ratio >= 0.8 ? "met" : "MISSED"} |`);
      raw[`throughput ${kind}`] = { ratios, mem, red, redisCpu };
    }
    const fleet = (await statusOf(shared.port)).fleetView as { degraded: boolean; droppedWrites: number };
    rows.push(`| fleet view after the load | degraded ${fleet.degraded}, dropped writes ${fleet.droppedWrites} | | |`);
  } finally {
    await memory.stop();
    await shared.stop();
    await redis.stop();
  }
}

async function memoryPerAgent(): Promise<void> {
  const redis = await startRedis();
  const server = await startServer(repoCopy(), [], ROOT, ["--registry", redis.url]);
  try {
    const n = 20_000;
    await once(server.port, "heartbeat", 1);
    const versions = await versionsOf(server.port);
    await redis.client.flushall();
    const before = await redis.usedMemory();
    await once(server.port, "v2heartbeat", n, 0, versions);
    await written(redis, n);
    const after = await redis.usedMemory();
    const key = await redis.client.call("MEMORY", "USAGE", `cs:a:${agentId(1)}`) as number;
    const stored = decodeStored((await redis.client.get(`cs:a:${agentId(1)}`)) ?? "");
    const bytes = (["h", "p", "i", "s", "l"] as const).map((k) => `${k} ${Buffer.byteLength(stored[k])}`).join(", ");
    rows.push(`| Redis memory per agent (v2, 3 tags, 10 config statuses; ${n.toLocaleString("en")} agents, used_memory delta) | **${r0((after - before) / n)} bytes** (one record: MEMORY USAGE ${key} bytes, of which the parts: ${bytes}, header 51; the rest is the log entry and Redis's own) | reported | |`);
    raw.memory = { n, before, after, key, stored };
  } finally {
    await server.stop();
    await redis.stop();
  }
}

async function replicas(redis: RedisProc): Promise<{ procs: Proc[]; bare: string }> {
  const bare = join(work, `remote-${Date.now()}.git`);
  execFileSync("git", ["clone", "-q", "--bare", template, bare]);
  const procs: Proc[] = [];
  for (let k = 0; k < 3; k++) {
    const dir = join(mkdtempSync(join(work, "replica-")), "repo");
    procs.push(await startServer(dir, [], ROOT, ["--remote", `file://${bare}`, "--sync-interval", "10m", "--registry", redis.url]));
  }
  return { procs, bare };
}

async function fanout(): Promise<void> {
  const redis = await startRedis();
  const { procs } = await replicas(redis);
  const [a, b, c] = procs as [Proc, Proc, Proc];
  try {
    for (const p of procs) await once(p.port, "heartbeat", 1);
    let versions = await versionsOf(b.port);
    const ack: number[] = [];
    const fromStart: number[] = [];
    for (let k = 0; k < (QUICK ? 5 : 20); k++) {
      const t0 = performance.now();
      const body = pb.UpdateConfigRequest.encode({ config_detail: { config_name: configName(0), agent_type: "ilogtail", description: "bench", content: configContent(0, 900_000 + k) } }).finish();
      const w = await request(a.port, "PUT", "/User/UpdateConfig", body);
      if (w.status !== 200) throw new Error(`UpdateConfig answered ${w.status}`);
      const acked = performance.now();
      const seen = await Promise.all([b, c].map(async (p) => {
        for (;;) {
          const r = await request(p.port, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode(pb.AgentGetConfigListRequest.fromObject({ agent_id: agentId(0), config_versions: versions })).finish());
          const m = pb.AgentGetConfigListResponse.decode(r.body);
          const changed = m.config_update_infos.find((i) => i.config_name === configName(0) && i.update_status === pb.ConfigUpdateInfo.UpdateStatus.MODIFIED);
          if (changed) return { at: performance.now(), version: Number(changed.config_version) };
          if (performance.now() - acked > 30_000) throw new Error("not visible within 30 s");
          await new Promise((r2) => setTimeout(r2, 2));
        }
      }));
      for (const s of seen) {
        ack.push(s.at - acked);
        fromStart.push(s.at - t0);
      }
      versions = { ...versions, [configName(0)]: (seen[0] as { version: number }).version };
    }
    const p50 = (xs: number[]) => r0(median(xs));
    rows.push(`| commit on A (UpdateConfig acknowledged, so pushed) → visible in GetConfigList on B and C; sync interval 10 min; ${ack.length / 2} commits | **p50 ${p50(ack)} ms, max ${r0(Math.max(...ack))} ms** (from sending the write: p50 ${p50(fromStart)} ms, max ${r0(Math.max(...fromStart))} ms) | reported | |`);
    raw.fanout = { ack, fromStart };
  } finally {
    for (const p of procs) await p.stop();
    await redis.stop();
  }
}

async function million(): Promise<void> {
  const redis = await startRedis();
  const { procs } = await replicas(redis);
  const [a, b] = procs as [Proc, Proc, Proc];
  try {
    await once(a.port, "heartbeat", 1);
    const versions = await versionsOf(a.port);
    await redis.client.flushall();
    const before = await redis.usedMemory();
    const per = Math.ceil(MILLION / 3);
    const t0 = performance.now();
    // A third of the fleet heartbeats to each replica (v2, 3 tags, 10 configs APPLIED), once.
    await Promise.all(procs.map((p, k) => once(p.port, "v2heartbeat", Math.min(per, MILLION - k * per), k * per, versions)));
    const sent = performance.now() - t0;
    await written(redis, MILLION);
    const inRedis = performance.now() - t0;
    const after = await redis.usedMemory();
    log(`${MILLION} agents sent in ${r0(sent)} ms, all in Redis after ${r0(inRedis)} ms; used_memory ${r1((after - before) / 1048576)} MB`);
    rows.push(`| ${MILLION.toLocaleString("en")} agents across 3 replicas: Redis used_memory | **${r1((after - before) / 1048576)} MB** (${r0((after - before) / MILLION)} bytes/agent); all written ${r1(inRedis / 1000)} s after the first heartbeat (${r0(MILLION / (sent / 1000))} heartbeats/s over the three) | reported | |`);
    const call = async (p: Proc, method: string, path: string, body: Uint8Array | string, type: string) => {
      const started = performance.now();
      const res = await fetch(`http://127.0.0.1:${p.port}${path}`, { method, headers: { "content-type": type }, ...(method === "GET" ? {} : { body: Buffer.from(body) }) });
      const buf = Buffer.from(await res.arrayBuffer());
      const ms = performance.now() - started;
      return { status: res.status, bytes: buf.length, ms, error: res.status === 200 ? "" : buf.toString("utf8").slice(0, 200) };
    };
    const list = pb.ListAgentsRequest.encode({ group_name: "default" }).finish();
    const prod = pb.ListAgentsRequest.encode({ group_name: "env-prod" }).finish();
    const measured: [string, Proc, string, string, Uint8Array | string, string][] = [
      ["ListAgents default, first on replica A (its mirror reads the whole fleet from Redis)", a, "POST", "/User/ListAgents", list, "application/x-protobuf"],
      ["ListAgents default, again on A (catch-up: nothing changed)", a, "POST", "/User/ListAgents", list, "application/x-protobuf"],
      ["ListAgents env-prod (1/3 of the fleet) on A", a, "POST", "/User/ListAgents", prod, "application/x-protobuf"],
      ["GET /api/v1/agents (first page of 500) on A", a, "GET", "/api/v1/agents", "", "application/json"],
      ["GET /api/v1/agents?tag=env=prod&version=3.0.5&limit=100 on A", a, "GET", "/api/v1/agents?tag=env=prod&version=3.0.5&limit=100", "", "application/json"],
      ["GET /api/v1/agents?q=host-19999&limit=100 on A", a, "GET", "/api/v1/agents?q=host-19999&limit=100", "", "application/json"],
      ["GET /api/v1/agents?group=env-prod&limit=5000 on A", a, "GET", "/api/v1/agents?group=env-prod&limit=5000", "", "application/json"],
      ["GET /api/v1/agents?tag=env=prod&limit=100, first on replica B", b, "GET", "/api/v1/agents?tag=env=prod&limit=100", "", "application/json"],
      ["GET /status on B", b, "GET", "/status", "", "application/json"],
    ];
    const table: string[] = [];
    for (const [label, p, method, path, body, type] of measured) {
      const r = await call(p, method, path, body, type);
      const figure = r.status === 200 ? `${r0(r.ms)} ms (${r1(r.bytes / 1048576)} MB)` : `HTTP ${r.status} after ${r0(r.ms)} ms (${r.error})`;
      table.push(`${label}: ${figure}`);
      log(`  ${label}: ${figure}`);
    }
    const status = await statusOf(b.port);
    rows.push(`| ${MILLION.toLocaleString("en")} agents: listings (each request once, in this order; /status on B counts ${status.agents} agents) | ${table.join("; ")} | reported | |`);
    rows.push(`| ${MILLION.toLocaleString("en")} agents: replica RSS after the listings (A, B, C) | ${procs.map((p) => `${r0(rss(p.pid) / 1048576)} MB`).join(", ")} | reported | |`);
    raw.million = { before, after, sent, inRedis, table };
  } finally {
    for (const p of procs) await p.stop();
    await redis.stop();
  }
}

log(`machine: nproc ${cpus().length}, ${cpus()[0]?.model}, node ${process.version}, load ${loadavg().map(r1).join(" ")}`);
try {
  if (ONLY.has("throughput")) await throughput();
  if (ONLY.has("memory")) await memoryPerAgent();
  if (ONLY.has("fanout")) await fanout();
  if (ONLY.has("million")) await million();
} finally {
  rmSync(work, { recursive: true, force: true });
  // What was measured is printed even when a later scenario failed.
  console.log(`\n| scenario | figure | target | verdict |\n|---|---|---|---|\n${rows.join("\n")}`);
  console.log(`\nload average at the end: ${loadavg().map(r1).join(" ")}`);
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results", `redis-${new Date().toISOString().replace(/[:.]/g, "-")}.json`), JSON.stringify(raw));
}
