import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configserver } from "../../src/gen/proto.js";
import { send } from "./client.ts";
import { tempDir } from "./git.ts";

export const v1 = configserver.proto.v1;
export const { NEW, DELETED, MODIFIED } = v1.CheckStatus;

const num = (v: unknown) => (v == null ? 0 : typeof v === "object" ? (v as { toNumber(): number }).toNumber() : Number(v));

export interface CheckResult {
  readonly name: string;
  readonly status: number;
  readonly oldVersion: number;
  readonly newVersion: number;
}

export interface V1Cycle {
  readonly status: number;
  /** The heartbeat answer as decoded (whatever its request_id). */
  readonly response: configserver.proto.v1.HeartBeatResponse;
  /** The check results the agent acted on: none when the request_id did not match. */
  readonly results: readonly CheckResult[];
  /** Whether it sent FetchPipelineConfig, and that answer's status. */
  readonly fetched: boolean;
  readonly fetchStatus?: number;
}

/**
 * An agent that does what LoongCollector's LegacyCommonConfigProvider does (docs/protocols/v1.md;
 * core/config/common_provider/LegacyCommonConfigProvider.cpp), field for field:
 * - HeartBeat: request_id Base64("heartbeat" + unix seconds), agent_id its instance id, agent_type
 *   "iLogtail", attributes {version, ip}, tags = the *values* of ilogtail_tags (in the order of
 *   their names, as jsoncpp lists members), running_status "" and startup_time 0, interval, and
 *   pipeline_configs {PIPELINE_CONFIG, name, version} of every config it holds (a hash map: any
 *   order; this one reports them in reverse insertion order).
 * - It ignores an answer whose request_id is not the one it sent; it never looks at the HTTP status
 *   or the code.
 * - With check results: one FetchPipelineConfig, request_id Base64(instance id + "_" + seconds),
 *   {PIPELINE_CONFIG, name, new_version, context} of each result that is not DELETED (an empty
 *   request when all are), again ignoring an answer with another request_id; then per result:
 *   DELETED → forget it, delete `<name>.yaml`; NEW/MODIFIED → remember new_version and write the
 *   matching detail (or "" when the answer had none) to `<name>.yaml.new`, renamed to `<name>.yaml`.
 * It never sends agent_configs and never calls FetchAgentConfig. A restart forgets the versions
 * (the provider starts with an empty map) but keeps the files.
 */
export class V1Agent {
  readonly dir = tempDir("cs-v1agent-");
  /** mConfigNameVersionMap */
  readonly held = new Map<string, number>();
  version = "3.0.5";
  ip = "10.0.0.21";
  /** Sent in attributes when set (the real iLogtail 1.x sends version and ip; other v1 clients add hostname). */
  hostname: string | undefined;
  interval = 10;
  /** Seconds of the clock the request ids are made from (the agent uses time(NULL)). */
  clock = () => Math.floor(Date.now() / 1000);
  /** Sent with every request (`connection: close`: each request on a new connection). */
  headers: Record<string, string> = {};

  constructor(
    private url: string,
    readonly instanceId: string,
    /** ilogtail_tags: only the values are sent. */
    readonly tags: Record<string, string>,
  ) {
    mkdirSync(this.dir, { recursive: true });
  }

  /** Another server address, e.g. after a server restart on another port. */
  pointAt(url: string): void {
    this.url = url;
  }

  heartbeatRequest(requestId: string): configserver.proto.v1.IHeartBeatRequest {
    return {
      request_id: requestId,
      agent_id: this.instanceId,
      agent_type: "iLogtail",
      attributes: { version: this.version, ip: this.ip, ...(this.hostname !== undefined ? { hostname: this.hostname } : {}) },
      tags: Object.keys(this.tags).sort().map((k) => this.tags[k] as string),
      running_status: "",
      startup_time: 0 as never,
      interval: this.interval,
      pipeline_configs: [...this.held].reverse().map(([name, version]) => ({ type: v1.ConfigType.PIPELINE_CONFIG, name, version: version as never })),
    };
  }

  private async post<T>(path: string, body: Uint8Array, decode: (b: Uint8Array) => T): Promise<{ status: number; body: T | undefined }> {
    const r = await send(this.url, "POST", path, body, { "content-type": "application/x-protobuf", ...this.headers });
    let decoded: T | undefined;
    try {
      decoded = decode(r.body);
    } catch {
      decoded = undefined; // ParseFromString failed: the agent sees an empty message
    }
    return { status: r.status, body: decoded };
  }

  /** One GetConfigUpdate of the real provider. */
  async cycle(): Promise<V1Cycle> {
    const requestId = Buffer.from(`heartbeat${this.clock()}`).toString("base64");
    const hb = await this.post("/Agent/HeartBeat", v1.HeartBeatRequest.encode(this.heartbeatRequest(requestId)).finish(), (b) => v1.HeartBeatResponse.decode(b));
    const response = hb.body ?? v1.HeartBeatResponse.create();
    const checks = response.request_id === requestId ? response.pipeline_check_results : [];
    const results = checks.map((c) => ({ name: c.name ?? "", status: c.check_status ?? NEW, oldVersion: num(c.old_version), newVersion: num(c.new_version) }));
    if (results.length === 0) return { status: hb.status, response, results, fetched: false };

    const fetchId = Buffer.from(`${this.instanceId}_${this.clock()}`).toString("base64");
    const ask = checks.filter((c) => c.check_status !== DELETED).map((c) => ({ type: v1.ConfigType.PIPELINE_CONFIG, name: c.name, version: c.new_version, context: c.context }));
    const fp = await this.post("/Agent/FetchPipelineConfig", v1.FetchPipelineConfigRequest.encode({ request_id: fetchId, agent_id: this.instanceId, req_configs: ask }).finish(), (b) => v1.FetchPipelineConfigResponse.decode(b));
    const details = fp.body && fp.body.request_id === fetchId ? fp.body.config_details : [];
    for (const r of results) {
      const file = join(this.dir, `${r.name}.yaml`);
      if (r.status === DELETED) {
        this.held.delete(r.name);
        rmSync(file, { force: true });
      } else if (r.status === NEW || r.status === MODIFIED) {
        const detail = details.find((d) => d.name === r.name)?.detail ?? "";
        this.held.set(r.name, r.newVersion);
        writeFileSync(`${file}.new`, detail);
        renameSync(`${file}.new`, file);
      }
    }
    return { status: hb.status, response, results, fetched: true, fetchStatus: fp.status };
  }

  /** The process restarts: the version map starts empty, the folder stays. */
  restart(): void {
    this.held.clear();
  }

  /** What is in its remote-config folder: name → file text. */
  files(): Record<string, string> {
    if (!existsSync(this.dir)) return {};
    const out: Record<string, string> = {};
    for (const f of readdirSync(this.dir).sort()) if (f.endsWith(".yaml")) out[f.slice(0, -5)] = readFileSync(join(this.dir, f), "utf8");
    return out;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
