// OpAMP (docs/protocols/opamp.md) at 10,000 agents: the throughput of heartbeats and of status
// reports (remote_config_status APPLIED) at peak, against the bare node:http + protobufjs baseline
// (bench/bareBaseline.ts doing the same decode/encode of AgentToServer → ServerToAgent), measured
// alternately, the ratio the median of the per-round ratios; then memory per OpAMP agent (RSS and
// V8 heap above the idle server, once settled).
// Run: node --import tsx bench/opamp.ts [agents=10000] [rounds=5] [ms=4000]
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { opamp } from "../src/gen/proto.js";
import { encodeRequests, type BodyKind, type LoadResult } from "./loadgen.ts";
import { heapUsed, load, request, settled, startBareBaseline, startServer, type Proc } from "./proc.ts";
import { git } from "../test/helpers/git.ts";
import { writeFiles } from "../test/helpers/repo.ts";
import { median, r0, r2 } from "./stats.ts";

const AGENTS = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const MS = Number(process.argv[4] ?? 4000);
const CONNECTIONS = 64;
const log = (...a: unknown[]) => console.error(`[opamp ${new Date().toISOString().slice(11, 19)}]`, ...a);
const mb = (b: number) => `${Math.round(b / 1048576)} MB`;
const pb = opamp.proto.v1;

/** 10 Collector configs (~600 bytes of YAML each) for every agent (the default group): one map, one hash. */
function buildRepo(dir: string): void {
  const collector = (i: number) => `config_name: otel-${i}\nagent_type: opamp\ndescription: ""\ncontent: |\n${`  receivers:\n    filelog/${i}:\n      include: [/var/log/app-${i}/*.log]\n      start_at: end\n  processors:\n    batch/${i}: {send_batch_size: 512, timeout: 5s}\n  exporters:\n    otlphttp/${i}:\n      endpoint: https://collector-${i}.example:4318\n  service:\n    pipelines:\n      logs/${i}: {receivers: [filelog/${i}], processors: [batch/${i}], exporters: [otlphttp/${i}]}\n`.padEnd(600, "#")}\n`;
  const files: Record<string, string> = {};
  for (let i = 0; i < 10; i++) files[`configs/otel-${i}.yaml`] = collector(i);
  files["agent_groups/default.yaml"] = `group_name: default\ndescription: ""\ntags: []\nconfigs: [${[...Array(10).keys()].map((i) => `otel-${i}`).join(", ")}]\n`;
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "--initial-branch=main");
  writeFiles(dir, files);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "OpAMP bench fleet");
}

/** Registers every agent (its first message); returns the hash of the map they were sent. */
async function register(port: number): Promise<string> {
  await load({ port, kind: "opampRegister", agents: AGENTS, connections: CONNECTIONS, once: true });
  // One more agent's first message, read here: its map is every agent's.
  const body = encodeRequests({ kind: "opampRegister", agents: 1, offset: AGENTS })[0] as Buffer;
  const answer = pb.ServerToAgent.decode((await request(port, "POST", "/v1/opamp", body.subarray(body.indexOf("\r\n\r\n") + 4))).body);
  return Buffer.from(answer.remote_config?.config_hash ?? []).toString("hex");
}

async function peak(port: number, kind: BodyKind, hash: string | undefined, pid: number): Promise<LoadResult> {
  return load({ port, kind, agents: AGENTS, connections: CONNECTIONS, durationMs: MS, warmupMs: 500, watchPid: pid, ...(hash ? { opampHash: hash } : {}) });
}

const work = mkdtempSync(join(tmpdir(), "configserver-opamp-"));
const repo = join(work, "repo");
buildRepo(repo);
const rows: string[] = ["| scenario | server req/s | bare node:http req/s | ratio | server p99 ms | server CPU |", "|---|---|---|---|---|---|"];
let server: Proc | undefined;
let baseline: Proc | undefined;
try {
  server = await startServer(repo);
  const hash = await register(server.port);
  await load({ port: server.port, kind: "opampStatus", agents: AGENTS, opampHash: hash, connections: CONNECTIONS, once: true });
  const template = Buffer.from(pb.ServerToAgent.encode(pb.ServerToAgent.fromObject({ instance_uid: Buffer.alloc(16), capabilities: 7 })).finish()).toString("base64");
  baseline = await startBareBaseline({ "/v1/opamp": template });
  for (const [title, kind] of [["heartbeat (instance_uid, sequence_num, capabilities)", "opampHeartbeat"], ["status report (remote_config_status APPLIED)", "opampStatus"]] as const) {
    const ratios: number[] = [];
    const ours: LoadResult[] = [];
    const theirs: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ["server", "baseline"] : ["baseline", "server"];
      let s: LoadResult | undefined;
      let b: LoadResult | undefined;
      for (const who of order) {
        if (who === "server") s = await peak(server.port, kind, hash, server.pid);
        else b = await peak(baseline.port, kind, hash, baseline.pid);
      }
      ours.push(s as LoadResult);
      theirs.push(b as LoadResult);
      ratios.push((s as LoadResult).rps / (b as LoadResult).rps);
      log(title, `round ${round + 1}: server ${r0((s as LoadResult).rps)} req/s, baseline ${r0((b as LoadResult).rps)} req/s`);
    }
    const errors = ours.reduce((n, r) => n + r.errors, 0);
    rows.push(`| ${title} | ${r0(median(ours.map((r) => r.rps)))} | ${r0(median(theirs.map((r) => r.rps)))} | ${r2(median(ratios))} | ${r2(median(ours.map((r) => r.latencyMs.p99)))} | ${r2(median(ours.map((r) => r.serverCpu ?? 0)))}${errors ? ` (${errors} errors)` : ""} |`);
  }
  await baseline.stop();
  baseline = undefined;
  await server.stop();

  // Memory per agent: a fresh server, idle, then every agent's first message and status report.
  server = await startServer(repo);
  await load({ port: server.port, kind: "opampRegister", agents: 1, connections: 1, once: true });
  const idle = await settled(server.pid);
  const heapIdle = await heapUsed(server.port);
  const h = await register(server.port);
  await load({ port: server.port, kind: "opampStatus", agents: AGENTS, opampHash: h, connections: CONNECTIONS, once: true });
  await load({ port: server.port, kind: "opampHeartbeat", agents: AGENTS, connections: CONNECTIONS, once: true });
  const after = await settled(server.pid);
  const heap = await heapUsed(server.port);
  rows.push("", "| memory | RSS above idle | per agent | V8 heap above idle | per agent |", "|---|---|---|---|---|");
  rows.push(`| ${AGENTS} OpAMP agents (registered, status reported, heartbeating) | ${mb(after - idle)} (idle ${mb(idle)}) | ${r0((after - idle) / AGENTS)} B | ${mb(heap - heapIdle)} | ${r0((heap - heapIdle) / AGENTS)} B |`);
} finally {
  await baseline?.stop();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(`\nOpAMP, ${AGENTS.toLocaleString("en")} agents, ${ROUNDS} rounds × ${MS} ms, ${CONNECTIONS} connections\n\n${rows.join("\n")}\n`);
