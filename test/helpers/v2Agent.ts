import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configserver } from "../../src/gen/proto.js";
import { send } from "./client.ts";
import { tempDir } from "./git.ts";

export const v2 = configserver.proto.v2;

export const Status = { UNSET: 0, APPLYING: 1, APPLIED: 2, FAILED: 3 } as const;

export interface HeldConfig {
  name: string;
  version: number;
  status: number;
  message: string;
}

export interface CycleResult {
  /** The heartbeat answer, decoded (the real agent ignores its status and request id). */
  readonly response: configserver.proto.v2.HeartbeatResponse;
  readonly status: number;
  /** Names of the ConfigDetails received (from the heartbeat or the fetches), with their versions. */
  readonly pipelineUpdates: readonly { name: string; version: number }[];
  readonly instanceUpdates: readonly { name: string; version: number }[];
  /** Whether FetchPipelineConfig / FetchInstanceConfig were called. */
  readonly fetched: boolean;
}

const num = (v: unknown) => (v == null ? 0 : typeof v === "object" ? (v as { toNumber(): number }).toNumber() : Number(v));

/**
 * An agent that does what LoongCollector's CommonConfigProvider does (docs/protocols/v2.md),
 * byte for byte where it matters: full-state heartbeats with a fresh UUID request_id, sequence_num
 * from 0 and +1 per successful cycle, capabilities 3, attributes {hostname, ip, version, extras
 * {osDetail}}, tags {name, value}; FetchPipelineConfig **and** FetchInstanceConfig when the answer's
 * flags have bit 2; each ConfigDetail with version -1 deletes `<name>.json`, any other is parsed
 * as JSON (an object, else the config is FAILED), gets `"version"` set, is written atomically to
 * its folder and becomes APPLYING. `load()` stands for the pipeline loading (APPLIED or FAILED).
 */
export class V2Agent {
  readonly dir = tempDir("cs-v2agent-");
  readonly pipelineDir = join(this.dir, "continuous_pipeline_config", "common_v2");
  readonly instanceDir = join(this.dir, "instance_config", "common_v2");
  sequence = 0;
  capabilities = 3;
  readonly pipelines = new Map<string, HeldConfig>();
  readonly instances = new Map<string, HeldConfig>();
  private readonly startupTime = Math.floor(Date.now() / 1000);
  /** What it reports as its attributes' ip and hostname (a host's own, so tests can give each its own). */
  ip = "10.0.0.7";
  hostname: string;
  /** Sent with every request (`connection: close`: each request on a new connection, as an agent without keep-alive). */
  headers: Record<string, string> = {};

  constructor(
    private url: string,
    readonly instanceId: string,
    readonly tags: Record<string, string>,
  ) {
    this.hostname = `host-${instanceId}`;
    mkdirSync(this.pipelineDir, { recursive: true });
    mkdirSync(this.instanceDir, { recursive: true });
  }

  /** Another server address (the agent's endpoint list), e.g. after a server restart on another port. */
  pointAt(url: string): void {
    this.url = url;
  }

  private info(c: HeldConfig) {
    return { name: c.name, message: c.message, version: c.version, status: c.status };
  }

  heartbeatRequest(): configserver.proto.v2.IHeartbeatRequest {
    // Numbers for int64 fields, as protobufjs encodes them (its types say Long).
    return <configserver.proto.v2.IHeartbeatRequest>(<unknown>{
      request_id: Buffer.from(randomUUID()),
      sequence_num: this.sequence,
      capabilities: this.capabilities,
      instance_id: Buffer.from(this.instanceId),
      agent_type: "LoongCollector",
      attributes: { hostname: Buffer.from(this.hostname), ip: Buffer.from(this.ip), version: Buffer.from("3.0.5"), extras: { osDetail: Buffer.from("Linux 6.1") } },
      tags: Object.entries(this.tags).map(([name, value]) => ({ name, value })),
      running_status: "running",
      startup_time: this.startupTime,
      continuous_pipeline_configs: [...this.pipelines.values()].map((c) => this.info(c)),
      instance_configs: [...this.instances.values()].map((c) => this.info(c)),
    });
  }

  private async post<T>(path: string, body: Uint8Array, decode: (b: Uint8Array) => T): Promise<{ status: number; body: T }> {
    const r = await send(this.url, "POST", path, body, { "content-type": "application/x-protobuf", ...this.headers });
    return { status: r.status, body: decode(r.body) };
  }

  /** One GetConfigUpdate cycle of the real provider. */
  async cycle(): Promise<CycleResult> {
    const hb = await this.post("/Agent/Heartbeat", v2.HeartbeatRequest.encode(this.heartbeatRequest()).finish(), (b) => v2.HeartbeatResponse.decode(b));
    const response = hb.body;
    let pipeline: configserver.proto.v2.IConfigDetail[] = response.continuous_pipeline_config_updates;
    let instance: configserver.proto.v2.IConfigDetail[] = response.instance_config_updates;
    let fetched = false;
    if (num(response.flags) & 2) {
      fetched = true;
      const ask = (list: configserver.proto.v2.IConfigDetail[]) => list.map((c) => ({ name: c.name, version: c.version }));
      const fp = await this.post("/Agent/FetchPipelineConfig", v2.FetchConfigRequest.encode({ request_id: Buffer.from(randomUUID()), instance_id: Buffer.from(this.instanceId), continuous_pipeline_configs: ask(pipeline) }).finish(), (b) => v2.FetchConfigResponse.decode(b));
      const fi = await this.post("/Agent/FetchInstanceConfig", v2.FetchConfigRequest.encode({ request_id: Buffer.from(randomUUID()), instance_id: Buffer.from(this.instanceId), instance_configs: ask(instance) }).finish(), (b) => v2.FetchConfigResponse.decode(b));
      pipeline = fp.body.continuous_pipeline_config_updates;
      instance = fi.body.instance_config_updates;
    }
    this.apply(pipeline, this.pipelines, this.pipelineDir);
    this.apply(instance, this.instances, this.instanceDir);
    this.sequence++;
    const names = (l: configserver.proto.v2.IConfigDetail[]) => l.map((c) => ({ name: c.name ?? "", version: num(c.version) }));
    return { response, status: hb.status, pipelineUpdates: names(pipeline), instanceUpdates: names(instance), fetched };
  }

  private apply(details: configserver.proto.v2.IConfigDetail[], held: Map<string, HeldConfig>, dir: string): void {
    for (const d of details) {
      const name = d.name ?? "";
      const version = num(d.version);
      const file = join(dir, `${name}.json`);
      if (version === -1) {
        held.delete(name);
        rmSync(file, { force: true });
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(d.detail ?? new Uint8Array()).toString("utf8"));
      } catch {
        parsed = undefined;
      }
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        held.set(name, { name, version, status: Status.FAILED, message: "" });
        continue;
      }
      (parsed as Record<string, unknown>).version = version;
      writeFileSync(`${file}.new`, JSON.stringify(parsed, null, 3));
      renameSync(`${file}.new`, file);
      held.set(name, { name, version, status: Status.APPLYING, message: "" });
    }
  }

  /** The pipelines load: each APPLYING config becomes APPLIED, or FAILED with `failure(name)`'s message. */
  load(failure: (name: string, json: Record<string, unknown>) => string | undefined = () => undefined): void {
    for (const [held, dir] of [[this.pipelines, this.pipelineDir], [this.instances, this.instanceDir]] as const) {
      for (const c of held.values()) {
        if (c.status !== Status.APPLYING) continue;
        const json = JSON.parse(readFileSync(join(dir, `${c.name}.json`), "utf8")) as Record<string, unknown>;
        const message = failure(c.name, json);
        c.status = message === undefined ? Status.APPLIED : Status.FAILED;
        c.message = message ?? "";
      }
    }
  }

  /** The agent process restarts: it forgets everything but its folders, and re-reads them. */
  restart(): void {
    this.sequence = 0;
    for (const [held, dir] of [[this.pipelines, this.pipelineDir], [this.instances, this.instanceDir]] as const) {
      held.clear();
      for (const f of readdirSync(dir)) {
        if (!f.endsWith(".json")) continue;
        const json = JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>;
        const name = f.slice(0, -".json".length);
        held.set(name, { name, version: typeof json.version === "number" ? json.version : 0, status: Status.APPLYING, message: "" });
      }
    }
  }

  /** The file the agent wrote for a pipeline config, parsed. */
  pipelineFile(name: string): Record<string, unknown> {
    return JSON.parse(readFileSync(join(this.pipelineDir, `${name}.json`), "utf8")) as Record<string, unknown>;
  }

  instanceFile(name: string): Record<string, unknown> {
    return JSON.parse(readFileSync(join(this.instanceDir, `${name}.json`), "utf8")) as Record<string, unknown>;
  }

  files(): { pipelines: string[]; instances: string[] } {
    const list = (d: string) => readdirSync(d).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
    return { pipelines: list(this.pipelineDir), instances: list(this.instanceDir) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
