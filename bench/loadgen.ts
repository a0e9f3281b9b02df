// The load generator: a separate process with its own keep-alive HTTP/1.1 client on raw sockets.
// Every request (headers and protobuf body, one per simulated agent) is encoded before the clock
// starts; the hot loop only writes buffers and parses status line + Content-Length.
// Run: node --import tsx bench/loadgen.ts '<LoadSpec as JSON>'  → one JSON line (LoadResult) on stdout.
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { createHistogram } from "node:perf_hooks";
import { configserver, opamp } from "../src/gen/proto.js";
import { agentId, agentTags } from "./fleet.ts";

const pb = configserver.proto;
const v1 = configserver.proto.v1;

/**
 * alpha HeartBeat, GetConfigList, RunningStatistics, Alarm; v2 Heartbeat (LoongCollector: full
 * state, `versions` reported APPLIED), FetchPipelineConfig (`versions`' names), FetchInstanceConfig
 * (`instanceVersions`' names), ReportStatus (`versions` APPLIED); v1 HeartBeat
 * (LegacyCommonConfigProvider: `versions` reported), FetchPipelineConfig (`versions`' names),
 * FetchAgentConfig (`instanceVersions`' names).
 */
export type BodyKind = "heartbeat" | "configList" | "statistics" | "alarm" | "v2heartbeat" | "v2fetchPipeline" | "v2fetchInstance" | "v2report" | "v1heartbeat" | "v1fetchPipeline" | "v1fetchAgent"
  | "opampRegister" | "opampHeartbeat" | "opampStatus";

const PATHS: Record<BodyKind, string> = {
  heartbeat: "/Agent/HeartBeat", configList: "/Agent/GetConfigList", statistics: "/Agent/RunningStatistics", alarm: "/Agent/Alarm",
  v2heartbeat: "/Agent/Heartbeat", v2fetchPipeline: "/Agent/FetchPipelineConfig", v2fetchInstance: "/Agent/FetchInstanceConfig", v2report: "/Agent/ReportStatus",
  v1heartbeat: "/Agent/HeartBeat", v1fetchPipeline: "/Agent/FetchPipelineConfig", v1fetchAgent: "/Agent/FetchAgentConfig",
  opampRegister: "/v1/opamp", opampHeartbeat: "/v1/opamp", opampStatus: "/v1/opamp",
};

export interface LoadSpec {
  readonly port: number;
  readonly kind: BodyKind;
  /** Simulated agents: one pre-encoded request each, sent round-robin. */
  readonly agents: number;
  /** Index of the first simulated agent (several generators share one fleet); default 0. */
  readonly offset?: number;
  /** config_versions every agent reports on GetConfigList ({} = a fresh agent: everything NEW), and its v2 and v1 config lists. */
  readonly versions?: Record<string, number>;
  /** OpAMP status reports: the config hash (hex) every agent reports APPLIED. */
  readonly opampHash?: string;
  /** The instance configs a v2 agent holds (v2 heartbeats, FetchInstanceConfig). */
  readonly instanceVersions?: Record<string, number>;
  readonly connections: number;
  /** Closed loop for this long (peak), or open loop at `rate` req/s. */
  readonly durationMs?: number;
  /** Open-loop target rate; latency counts from each request's intended send time. */
  readonly rate?: number;
  /** Send each agent's request exactly once, then stop (registration, memory). */
  readonly once?: boolean;
  /** Closed-loop warm-up before measuring. */
  readonly warmupMs?: number;
  /** A process (the server) whose CPU use over the measured window is reported too. */
  readonly watchPid?: number;
  /** Several processes (a server with workers): their CPU is summed into serverCpu, and each is in pidCpu. */
  readonly watchPids?: readonly number[];
}

export interface LoadResult {
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  rps: number;
  bytesIn: number;
  bytesPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** CPU this generator used, as a fraction of one core over the measured window. */
  cpu: number;
  /** CPU the watched process used over the same window (fraction of one core). */
  serverCpu?: number;
  /** With watchPids: each process's CPU, in that order. */
  pidCpu?: number[];
}

/** user + system CPU seconds of a process, from /proc. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (CLK_TCK = 100 on Linux)
}

/** A v1 agent's id: another agent than the alpha agent of the same number. */
export const v1AgentId = (i: number) => `v1-${agentId(i)}`;

/**
 * The heartbeat LegacyCommonConfigProvider sends (docs/protocols/v1.md): Base64 request id, its
 * instance id, attributes {version, ip}, the values of its tags, interval 10, and every config it
 * holds at the version it holds (here: the served ones, so the answer has no check results).
 */
export function v1Heartbeat(i: number, versions: Record<string, number>, agentConfigs: Record<string, number> = {}): Uint8Array {
  return v1.HeartBeatRequest.encode(v1.HeartBeatRequest.fromObject({
    request_id: Buffer.from(`heartbeat${1_733_040_000 + (i % 60)}`).toString("base64"), agent_id: v1AgentId(i), agent_type: "iLogtail",
    attributes: { version: "3.0.5", ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, tags: Object.values(agentTags(i)), interval: 10,
    // The agent keeps them in a hash map: not in name order.
    pipeline_configs: Object.entries(versions).reverse().map(([name, version]) => ({ name, version })),
    agent_configs: Object.entries(agentConfigs).map(([name, version]) => ({ type: 1, name, version })),
  })).finish();
}

/** OpAMP agent i's instance_uid: 16 bytes, as the spec's UUIDs are. */
export function opampUid(i: number): Buffer {
  const uid = Buffer.alloc(16, 0x5a);
  uid.writeUInt32BE(i, 12);
  return uid;
}

/**
 * What an OpAMP agent sends (docs/protocols/opamp.md): its first message (full state: description
 * with the fleet's tags as attributes; ReportsStatus, AcceptsRemoteConfig, ReportsRemoteConfig,
 * ReportsHeartbeat), a heartbeat (instance_uid, sequence_num, capabilities: all the Node client
 * sends), and a status report (a heartbeat with remote_config_status APPLIED of `hash`).
 */
function opampBody(kind: "opampRegister" | "opampHeartbeat" | "opampStatus", i: number, hash: string | undefined): Uint8Array {
  const a2s = opamp.proto.v1.AgentToServer;
  const base = { instance_uid: opampUid(i), sequence_num: kind === "opampRegister" ? 1 : 2, capabilities: 0x1 | 0x2 | 0x1000 | 0x2000 };
  if (kind === "opampHeartbeat") return a2s.encode(a2s.fromObject(base)).finish();
  if (kind === "opampStatus") return a2s.encode(a2s.fromObject({ ...base, remote_config_status: { last_remote_config_hash: Buffer.from(hash ?? "", "hex"), status: 1 } })).finish();
  const kv = (key: string, value: string) => ({ key, value: { string_value: value } });
  return a2s.encode(a2s.fromObject({
    ...base,
    agent_description: {
      identifying_attributes: [kv("service.name", `svc-${i % 100}`), kv("service.instance.id", `inst-${i}`)],
      non_identifying_attributes: [...Object.entries(agentTags(i)).map(([k, v]) => kv(k, v)), kv("host.name", `host-${i}`), kv("os.type", "linux")],
    },
  })).finish();
}

export function encodeRequests(spec: Pick<LoadSpec, "kind" | "agents" | "versions" | "instanceVersions" | "offset" | "opampHash">): Buffer[] {
  const path = PATHS[spec.kind];
  const out: Buffer[] = [];
  const infos = (versions: Record<string, number> | undefined) => Object.entries(versions ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, version]) => ({ name, version, status: 2, message: "" }));
  const reported = infos(spec.versions);
  const instances = infos(spec.instanceVersions);
  for (let k = 0; k < spec.agents; k++) {
    const i = k + (spec.offset ?? 0);
    const id = agentId(i);
    const body = bodyOf(spec, i, id, reported, instances);
    out.push(Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
  }
  return out;
}

type Info = { name: string; version: number; status: number; message: string };

function bodyOf(spec: Pick<LoadSpec, "kind" | "versions" | "instanceVersions" | "opampHash">, i: number, id: string, reported: Info[], instances: Info[]): Uint8Array {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  switch (spec.kind) {
    case "opampRegister":
    case "opampHeartbeat":
    case "opampStatus":
      return opampBody(spec.kind, i, spec.opampHash);
    case "v2heartbeat":
      return pb.v2.HeartbeatRequest.encode(pb.v2.HeartbeatRequest.fromObject({
        request_id: Buffer.from(`hb-${id}`), sequence_num: 1, capabilities: 3, instance_id: Buffer.from(id), agent_type: "LoongCollector",
        attributes: { hostname: Buffer.from(`host-${i}`), ip: Buffer.from(ip), version: Buffer.from("3.0.5") },
        tags: Object.entries(agentTags(i)).map(([name, value]) => ({ name, value })), running_status: "running", startup_time: 1_700_000_000,
        continuous_pipeline_configs: reported, instance_configs: instances,
      })).finish();
    case "v2fetchPipeline":
      return pb.v2.FetchConfigRequest.encode(pb.v2.FetchConfigRequest.fromObject({ request_id: Buffer.from(`fp-${id}`), instance_id: Buffer.from(id), continuous_pipeline_configs: reported.map(({ name, version }) => ({ name, version })) })).finish();
    case "v2fetchInstance":
      return pb.v2.FetchConfigRequest.encode(pb.v2.FetchConfigRequest.fromObject({ request_id: Buffer.from(`fi-${id}`), instance_id: Buffer.from(id), instance_configs: instances.map(({ name, version }) => ({ name, version })) })).finish();
    case "v2report":
      return pb.v2.ReportStatusRequest.encode(pb.v2.ReportStatusRequest.fromObject({ request_id: Buffer.from(`rs-${id}`), instance_id: Buffer.from(id), continuous_pipeline_configs: reported })).finish();
    case "heartbeat":
      return pb.HeartBeatRequest.encode(pb.HeartBeatRequest.fromObject({
        request_id: `hb-${id}`, agent_id: id, agent_type: "ilogtail", agent_version: "1.8.0", ip, tags: agentTags(i), running_status: "running", startup_time: 1_700_000_000,
      })).finish();
    case "statistics":
      return pb.RunningStatisticsRequest.encode(pb.RunningStatisticsRequest.fromObject({ request_id: `rs-${id}`, agent_id: id, running_details: { cpu: 0.25, memory: 123_456_789, extras: { disk: "40%" } } })).finish();
    case "alarm":
      return pb.AlarmRequest.encode(pb.AlarmRequest.fromObject({ request_id: `al-${id}`, agent_id: id, type: "CONFIG_ALARM", detail: `pipeline cfg-0000 of ${id} could not parse a line` })).finish();
    case "v1heartbeat":
      return v1Heartbeat(i, spec.versions ?? {}, spec.instanceVersions);
    case "v1fetchPipeline":
      return v1.FetchPipelineConfigRequest.encode(v1.FetchPipelineConfigRequest.fromObject({ request_id: Buffer.from(`fetch${i}`).toString("base64"), agent_id: v1AgentId(i), req_configs: reported.map(({ name, version }) => ({ name, version })) })).finish();
    case "v1fetchAgent":
      return v1.FetchAgentConfigRequest.encode(v1.FetchAgentConfigRequest.fromObject({ request_id: Buffer.from(`fetch${i}`).toString("base64"), agent_id: v1AgentId(i), attributes: { version: "3.0.5" }, req_configs: instances.map(({ name, version }) => ({ type: 1, name, version })) })).finish();
    case "configList":
      return pb.AgentGetConfigListRequest.encode(pb.AgentGetConfigListRequest.fromObject({ request_id: `cl-${id}`, agent_id: id, config_versions: spec.versions ?? {} })).finish();
  }
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private need = -1; // total bytes of the response being read, once its head is parsed
  private status = 0;
  started = 0n;
  busy = false;
  readonly socket: Socket;

  constructor(port: number, private readonly onDone: (c: Conn, status: number, bytes: number) => void, onError: (e: Error) => void) {
    this.socket = connect({ port, host: "127.0.0.1", noDelay: true });
    this.socket.on("data", (d: Buffer) => this.data(d));
    this.socket.on("error", onError);
  }

  send(req: Buffer, started: bigint): void {
    this.busy = true;
    this.started = started;
    this.socket.write(req);
  }

  private data(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.need < 0) {
        const end = this.buf.indexOf(CRLFCRLF);
        if (end < 0) return;
        const head = this.buf.subarray(0, end).toString("latin1");
        this.status = Number(head.slice(9, 12));
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!m) throw new Error(`response without Content-Length: ${head}`);
        this.need = end + 4 + Number(m[1]);
      }
      if (this.buf.length < this.need) return;
      const bytes = this.need;
      this.buf = this.buf.subarray(this.need);
      this.need = -1;
      this.busy = false;
      this.onDone(this, this.status, bytes);
      if (this.buf.length === 0) return;
    }
  }
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const requests = encodeRequests(spec);
  const hist = createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });
  const statuses: Record<string, number> = {};
  let next = 0;
  let done = 0;
  let errors = 0;
  let bytesIn = 0;
  let measuring = false;
  let stopping = false;
  let inflight = 0;
  let openLoop = false;
  const total = spec.once ? requests.length : Infinity;
  let resolveIdle: () => void = () => {};
  let failed: Error | undefined;

  const pending: bigint[] = []; // open loop: intended send times still waiting for a free connection
  const idle: Conn[] = [];
  const take = () => requests[next++ % requests.length] as Buffer;

  const onDone = (c: Conn, status: number, bytes: number) => {
    inflight--;
    if (measuring) {
      done++;
      bytesIn += bytes;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 400) errors++;
      hist.record(Math.max(1, Number((process.hrtime.bigint() - c.started) / 1000n)));
    }
    if (stopping || next >= total) {
      if (inflight === 0) resolveIdle();
      return;
    }
    if (openLoop) {
      const t = pending.shift();
      if (t !== undefined) {
        inflight++;
        c.send(take(), t);
      } else idle.push(c);
    } else {
      inflight++;
      c.send(take(), process.hrtime.bigint());
    }
  };
  const conns: Conn[] = [];
  for (let i = 0; i < spec.connections; i++) conns.push(new Conn(spec.port, onDone, (e) => (failed ??= e)));
  await Promise.all(conns.map((c) => new Promise((r) => c.socket.once("connect", r))));

  const closedLoop = async (ms: number) => {
    stopping = false;
    const idleNow = new Promise<void>((r) => (resolveIdle = r));
    for (const c of conns) {
      if (next >= total) break;
      inflight++;
      c.send(take(), process.hrtime.bigint());
    }
    let timer: NodeJS.Timeout | undefined;
    if (Number.isFinite(ms)) {
      timer = setTimeout(() => {
        stopping = true;
        if (inflight === 0) resolveIdle();
      }, ms);
    }
    await idleNow;
    if (timer) clearTimeout(timer);
  };

  if (spec.warmupMs && !spec.once) {
    await closedLoop(spec.warmupMs);
    next = 0;
  }
  measuring = true;
  stopping = false;
  const cpu0 = process.cpuUsage();
  const server0 = spec.watchPid ? procCpuSeconds(spec.watchPid) : 0;
  const pids0 = (spec.watchPids ?? []).map(procCpuSeconds);
  const t0 = process.hrtime.bigint();
  if (spec.once) await closedLoop(Infinity);
  else if (!spec.rate) await closedLoop(spec.durationMs ?? 5000);
  else {
    // Open loop: request k is due at t0 + k/rate; late ones keep their due time (no coordinated omission).
    idle.push(...conns);
    openLoop = true;
    const interval = 1e9 / spec.rate;
    const end = t0 + BigInt(Math.round((spec.durationMs ?? 5000) * 1e6));
    let k = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = process.hrtime.bigint();
        const until = now < end ? now : end;
        for (;;) {
          const due = t0 + BigInt(Math.round(k * interval));
          if (due > until) break;
          k++;
          const c = idle.pop();
          if (c) {
            inflight++;
            c.send(take(), due);
          } else pending.push(due);
        }
        if (now >= end) {
          stopping = true;
          pending.length = 0;
          if (inflight === 0) resolve();
          else resolveIdle = resolve;
          return;
        }
        setTimeout(tick, 1);
      };
      tick();
    });
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const pidCpu = spec.watchPids?.map((pid, k) => (procCpuSeconds(pid) - (pids0[k] as number)) / seconds);
  const serverCpu = spec.watchPid ? (procCpuSeconds(spec.watchPid) - server0) / seconds : pidCpu?.reduce((a, b) => a + b, 0);
  for (const c of conns) c.socket.destroy();
  if (failed) throw failed;
  const ms = (p: number) => Math.round(hist.percentile(p) / 10) / 100;
  return {
    requests: done, errors, statuses, seconds, rps: done / seconds, bytesIn, bytesPerSec: bytesIn / seconds,
    latencyMs: { p50: ms(50), p90: ms(90), p99: ms(99), max: Math.round(hist.max / 10) / 100, mean: Math.round(hist.mean / 10) / 100 },
    cpu: (cpu.user + cpu.system) / 1e6 / seconds,
    ...(serverCpu !== undefined ? { serverCpu } : {}),
    ...(pidCpu !== undefined ? { pidCpu } : {}),
  };
}

if (process.argv[1]?.endsWith("loadgen.ts")) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  runLoad(spec).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + "\n");
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
