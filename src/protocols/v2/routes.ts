import type { IncomingMessage } from "node:http";
import { ApplyStatus, type AgentRecord, type ConfigKind, type ConfigReport } from "../../domain/agent.ts";
import { changesFor, DELETED_VERSION } from "../../domain/agentChanges.ts";
import { checkConfigCount, checkExtras, checkTagList } from "../../domain/agentLimits.ts";
import { DomainError } from "../../domain/errors.ts";
import type { Applied } from "../../domain/repoState.ts";
import type { ConfigRecord, InstanceConfigRecord } from "../../domain/types.ts";
import { configserver } from "../../gen/proto.js";
import type { ChangeSignal } from "../changeSignal.ts";
import { cacheable, type CacheableReply } from "../answerCache.ts";
import { int64, servedState, type AgentDeps, type AgentRoutes } from "../protocol.ts";
import { REPEATED } from "../../domain/registry.ts";
import { Repeats } from "../repeats.ts";
import { asciiText } from "../wire.ts";
import { agentRoute, type Replied, type Reply } from "../routeContract.ts";
import { V2_ENVELOPE } from "./envelope.ts";
import { DEFAULTS } from "../../settings/options.ts";
import { byName } from "../../domain/names.ts";

const pb = configserver.proto.v2;
/** A ConfigDetail as encoded (protobufjs takes a number for an int64). */
interface Detail {
  readonly name: string;
  readonly version: number;
  readonly detail?: Uint8Array;
}
type Int64 = Parameters<typeof int64>[0];
type Served = ConfigRecord | InstanceConfigRecord;

/** Agent capability bits. */
const ACCEPTS_PIPELINE = 1;
const ACCEPTS_INSTANCE = 2;
/** What this server remembers between heartbeats: attributes, pipeline and instance config statuses. */
const SERVER_CAPABILITIES = 1 | 2 | 4;
const REPORT_FULL_STATE = 1;
const FETCH_PIPELINE_DETAIL = 2;
const FETCH_INSTANCE_DETAIL = 4;
const REQUEST_FULL_STATE = 1;

export interface V2Settings {
  /**
   * "heartbeat": config details ride in the heartbeat answer (the default); "fetch": the answer
   * names the changes and sets the Fetch*ConfigDetail flags, and the agent fetches the details.
   */
  readonly details: "heartbeat" | "fetch";
  /** The longest a `WaitForChange=true` heartbeat is held (0 = never held). */
  readonly longPollMs: number;
}

export const V2_DEFAULTS: V2Settings = { details: DEFAULTS.v2ConfigDetails, longPollMs: DEFAULTS.v2LongPollMs };

export interface V2Deps extends AgentDeps {
  readonly v2?: V2Settings | undefined;
  /** Fired when a new snapshot is served; long polls wait on it. */
  readonly changes?: ChangeSignal | undefined;
}

/** Details as the agent parses them (a JSON object's bytes), made once per served record. */
const detailBytes = new WeakMap<Served, Uint8Array>();
function detailOf(c: Served): Uint8Array {
  let bytes = detailBytes.get(c);
  if (bytes === undefined) detailBytes.set(c, (bytes = Buffer.from(c.detailJson ?? "{}", "utf8")));
  return bytes;
}

/** Configs a v2 agent can take: those whose content is a mapping, once per applied list. */
const mappable = new WeakMap<readonly Served[], readonly Served[]>();
function mappableOf<T extends Served>(list: readonly T[]): readonly T[] {
  let out = mappable.get(list);
  if (out === undefined) mappable.set(list, (out = list.every((c) => c.detailJson !== undefined) ? list : list.filter((c) => c.detailJson !== undefined)));
  return out as readonly T[];
}

/**
 * v2's bytes fields as text (UTF-8). Ids, addresses and versions are ASCII: those are read by
 * protobufjs's decoder (the same characters, a quarter of the cost of a Buffer per field); any
 * other byte takes Buffer's UTF-8 decoding, whose handling of invalid sequences is the rule here.
 */
function text(b: Uint8Array | null | undefined): string {
  return b ? textAt(b, 0, b.length) : "";
}

/** `text` of bytes[start, end). */
function textAt(b: Uint8Array, start: number, end: number): string {
  if (end <= start) return "";
  for (let i = start; i < end; i++) if ((b[i] as number) > 0x7f) return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("utf8");
  return asciiText(b, start, end);
}
const STATUSES = new Set<number>([ApplyStatus.UNSET, ApplyStatus.APPLYING, ApplyStatus.APPLIED, ApplyStatus.FAILED]);

function instanceId(id: Uint8Array | null | undefined): string {
  const s = text(id);
  if (!s) throw new DomainError("BadRequest", "Need parameter instance_id: the agent's unique id (bytes, field 4 of HeartbeatRequest, field 2 of the other requests).");
  return s;
}

/**
 * A request's ConfigInfo list as reports, sorted by name. When it equals the agent's last report
 * (the common heartbeat), that array is returned and nothing is allocated per config.
 */
function reportsOf(infos: readonly configserver.proto.v2.IConfigInfo[] | null | undefined, last: readonly ConfigReport[]): readonly ConfigReport[] {
  const list = infos ?? [];
  if (list.length === last.length) {
    let same = true;
    for (let i = 0; i < list.length && same; i++) {
      const x = list[i] as configserver.proto.v2.IConfigInfo;
      const y = last[i] as ConfigReport;
      same = (x.name ?? "") === y.name && int64(x.version as Int64) === y.version && (x.status ?? 0) === y.status && (x.message ?? "") === y.message;
    }
    if (same) return last;
  }
  const out: ConfigReport[] = [];
  for (const x of list) {
    const name = x.name ?? "";
    if (name === "") throw new DomainError("BadRequest", "Every ConfigInfo needs a name: a reported config has an empty name.");
    const status = x.status ?? 0;
    out.push({ name, version: int64(x.version as Int64), status: (STATUSES.has(status) ? status : ApplyStatus.UNSET) as ConfigReport["status"], message: x.message ?? "" });
  }
  return out.sort(byName);
}

interface Delta {
  readonly pipelines: Detail[];
  readonly instances: Detail[];
}

/**
 * What one kind's delta is, per applied list and report list, when both are frozen (the
 * snapshot's applied lists; the registry's shared report lists): the common heartbeat (an agent
 * reporting what it was last sent) is answered without comparing its configs again.
 */
const deltas = [new WeakMap<readonly Served[], WeakMap<readonly ConfigReport[], Detail[]>>(), new WeakMap<readonly Served[], WeakMap<readonly ConfigReport[], Detail[]>>()];

/** The ConfigDetails an agent needs: changed configs (with their detail when `withDetail`) and -1 for removed ones. */
function deltaFor(applied: Applied, record: AgentRecord, capabilities: number, withDetail: boolean): Delta {
  const one = <T extends Served>(list: readonly T[], reported: readonly ConfigReport[]) => {
    if (!Object.isFrozen(list) || !Object.isFrozen(reported)) return compute(list, reported);
    const cache = deltas[withDetail ? 1 : 0] as WeakMap<readonly Served[], WeakMap<readonly ConfigReport[], Detail[]>>;
    let byReport = cache.get(list);
    if (byReport === undefined) cache.set(list, (byReport = new WeakMap()));
    let out = byReport.get(reported);
    if (out === undefined) byReport.set(reported, (out = compute(list, reported)));
    return out;
  };
  const compute = <T extends Served>(list: readonly T[], reported: readonly ConfigReport[]): Detail[] => {
    const ok = mappableOf(list);
    const changes = changesFor(ok, reported);
    if (changes.updates.length === 0 && changes.removed.length === 0) return NONE;
    const out: Detail[] = [];
    // A config applied to the agent whose content cannot be JSON is neither sent nor deleted: the
    // agent keeps what it runs (the config is listed in /status and by `validate`).
    const held = ok === list ? undefined : new Set(list.map((c) => c.name));
    for (const c of changes.updates) out.push(withDetail ? { name: c.name, version: c.version, detail: detailOf(c) } : { name: c.name, version: c.version });
    for (const r of changes.removed) if (!held?.has(r.name)) out.push({ name: r.name, version: DELETED_VERSION });
    // Shared with every agent in the same state: never changed after this.
    return Object.freeze(out.sort(byName)) as Detail[];
  };
  return {
    pipelines: capabilities & ACCEPTS_PIPELINE ? one(applied.configs, record.pipelines) : NONE,
    instances: capabilities & ACCEPTS_INSTANCE ? one(applied.instances, record.instances) : NONE,
  };
}
const NONE: Detail[] = Object.freeze([]) as unknown as Detail[];
const NO_REPORTS: readonly ConfigReport[] = Object.freeze([]);

const WAIT_FOR_CHANGE = /[?&]WaitForChange=(true|1)(&|$)/i;
/** The common reply: nothing changed. Cacheable: its answer is encoded once (answerCache.ts). */
const CAPABILITIES_ONLY = cacheable({ capabilities: SERVER_CAPABILITIES });


/** The 4 v2 routes (docs/protocols/v2.md). They read only memory. */
export function v2Routes(deps: V2Deps): AgentRoutes {
  const { registry, store } = deps;
  const settings = deps.v2 ?? V2_DEFAULTS;
  const fetchMode = settings.details === "fetch";
  /** Replies to agents that hold nothing, per applied list (it goes with its snapshot) and capabilities/full-state key (null: no reply needed). */
  const firstReplies = new WeakMap<Applied, Map<number, CacheableReply | null>>();

  const replyToBeat = (id: string, capabilities: number, fullState: boolean): Replied | undefined => {
    const state = servedState(store);
    const record = registry.get(id) as AgentRecord;
    const applied = state.applied(record.tagsKey, (record.heartbeat as NonNullable<AgentRecord["heartbeat"]>).tags, record.heartbeat?.attributes, id);
    // An agent that holds nothing (its first heartbeat, a new host) gets the same reply as every
    // other such agent of its tag set: made once per applied list, cacheable (encoded once).
    if (record.pipelines.length === 0 && record.instances.length === 0) {
      let byKind = firstReplies.get(applied);
      if (byKind === undefined) firstReplies.set(applied, (byKind = new Map()));
      const key = (capabilities & (ACCEPTS_PIPELINE | ACCEPTS_INSTANCE)) | (fullState ? 4 : 0);
      let reply = byKind.get(key);
      if (reply === undefined) {
        const made = replyOf(deltaFor(applied, record, capabilities, !fetchMode), fullState);
        byKind.set(key, (reply = made === null ? null : cacheable(made)));
      }
      return reply ?? undefined;
    }
    return replyOf(deltaFor(applied, record, capabilities, !fetchMode), fullState) ?? undefined;
  };

  const replyOf = (delta: Delta, fullState: boolean): Reply | null => {
    const changed = delta.pipelines.length > 0 || delta.instances.length > 0;
    // The agent tests FetchContinuousPipelineConfigDetail for both fetches.
    const flags = (fullState ? REPORT_FULL_STATE : 0) | (fetchMode && changed ? FETCH_PIPELINE_DETAIL | (delta.instances.length > 0 ? FETCH_INSTANCE_DETAIL : 0) : 0);
    if (!changed && !fullState) return null;
    return { capabilities: SERVER_CAPABILITIES, continuous_pipeline_config_updates: delta.pipelines, instance_config_updates: delta.instances, flags };
  };

  const heartbeat = (q: configserver.proto.v2.HeartbeatRequest, req: IncomingMessage): Replied | Promise<Replied> => {
    const id = instanceId(q.instance_id);
    const a = q.attributes;
    checkExtras(a?.extras, "attributes.extras");
    checkTagList(q.tags ?? [], (t) => (t.name?.length ?? 0) + (t.value?.length ?? 0));
    checkConfigCount(q.continuous_pipeline_configs?.length ?? 0, "continuous_pipeline_configs");
    checkConfigCount(q.instance_configs?.length ?? 0, "instance_configs");
    const extras: Record<string, string> = {};
    if (a?.hostid && a.hostid.length > 0) extras.hostid = text(a.hostid);
    for (const k in a?.extras ?? {}) extras[k] = text((a?.extras as Record<string, Uint8Array>)[k]);
    const tags: Record<string, string> = {};
    for (const t of q.tags ?? []) tags[t.name ?? ""] = t.value ?? "";
    const sequence = int64(q.sequence_num as Int64);
    const capabilities = int64(q.capabilities as Int64);
    // Checked before anything is stored: a bad request leaves the agent's record as it was.
    const before = registry.get(id);
    const pipelines = reportsOf(q.continuous_pipeline_configs, before?.pipelines ?? NO_REPORTS);
    const instances = reportsOf(q.instance_configs, before?.instances ?? NO_REPORTS);
    // Read before the heartbeat is recorded (the record is updated in place).
    const previousSequence = before?.heartbeat?.protocol === "v2" ? before.sequenceNum : undefined;
    registry.heartbeat({
      agentId: id,
      protocol: "v2",
      attributes: { agentType: q.agent_type ?? "", version: text(a?.version), ip: text(a?.ip), hostname: text(a?.hostname), extras },
      tags: { named: tags },
      runningStatus: q.running_status ?? "",
      startupTime: int64(q.startup_time as Int64),
      sequenceNum: sequence,
      capabilities,
    });
    // Every heartbeat of CommonConfigProvider carries the full list of what it holds.
    registry.reportConfigs(id, "pipeline", pipelines);
    registry.reportConfigs(id, "instance", instances);
    // Unknown to this server (first sight, a restart here, expiry) or a gap in its sequence: ask for
    // its full state, unless this heartbeat says it is one.
    const known = previousSequence !== undefined && (sequence === previousSequence + 1 || sequence === previousSequence);
    const fullState = !known && (int64(q.flags as Int64) & REQUEST_FULL_STATE) === 0;
    const reply = replyToBeat(id, capabilities, fullState);
    if (reply !== undefined) return reply;
    if (deps.changes && settings.longPollMs > 0 && WAIT_FOR_CHANGE.test(req.url ?? "")) {
      return deps.changes.wait(settings.longPollMs).then(() => replyToBeat(id, capabilities, false) ?? CAPABILITIES_ONLY);
    }
    return CAPABILITIES_ONLY;
  };

  /** FetchPipelineConfig / FetchInstanceConfig: the details of the named configs applied to the agent; -1 for others. */
  const fetch = (kind: ConfigKind, q: configserver.proto.v2.FetchConfigRequest): Reply => {
    const id = instanceId(q.instance_id);
    const record = registry.get(id);
    if (!record?.heartbeat) throw new DomainError("AgentNotExist", `Agent ${id} doesn't exist: send a heartbeat first.`);
    const state = servedState(store);
    const applied = state.applied(record.tagsKey, record.heartbeat.tags, record.heartbeat.attributes, id);
    const list: readonly Served[] = mappableOf(kind === "pipeline" ? applied.configs : applied.instances);
    const wanted = kind === "pipeline" ? q.continuous_pipeline_configs : q.instance_configs;
    checkConfigCount(wanted?.length ?? 0, kind === "pipeline" ? "continuous_pipeline_configs" : "instance_configs");
    const details: Detail[] = [];
    for (const w of wanted ?? []) {
      const name = w.name ?? "";
      const c = list.find((x) => x.name === name);
      details.push(c ? { name, version: c.version, detail: detailOf(c) } : { name, version: DELETED_VERSION });
    }
    return kind === "pipeline" ? { continuous_pipeline_config_updates: details } : { instance_config_updates: details };
  };

  // CommonConfigProvider's every heartbeat once it runs what is served (src/protocols/repeats.ts):
  // the same bytes but for the request id and the next sequence number.
  const repeats = new Repeats<configserver.proto.v2.HeartbeatRequest>({
    registry, store, echo: "bytes", sequence: true, idField: 4, idText: textAt, parts: REPEATED.HEARTBEAT | REPEATED.REPORTS, applied: true,
    idOf: (q) => text(q.instance_id), worth: (reply) => reply === CAPABILITIES_ONLY,
    accept: (record, sequence, req) => {
      // Known (not a first sight, a restart or a gap: those are asked for their full state), and no long poll asked for.
      const previous = record.heartbeat?.protocol === "v2" ? record.sequenceNum : undefined;
      return previous !== undefined && (sequence === previous + 1 || sequence === previous) && !(req.url !== undefined && req.url.includes("?") && WAIT_FOR_CHANGE.test(req.url));
    },
  });

  return [
    agentRoute(V2_ENVELOPE, { path: "/Agent/Heartbeat", request: pb.HeartbeatRequest, response: pb.HeartbeatResponse, handle: heartbeat, repeats }),
    agentRoute(V2_ENVELOPE, { path: "/Agent/FetchPipelineConfig", request: pb.FetchConfigRequest, response: pb.FetchConfigResponse, handle: (q) => fetch("pipeline", q) }),
    agentRoute(V2_ENVELOPE, { path: "/Agent/FetchInstanceConfig", request: pb.FetchConfigRequest, response: pb.FetchConfigResponse, handle: (q) => fetch("instance", q) }),
    agentRoute(V2_ENVELOPE, {
      path: "/Agent/ReportStatus", request: pb.ReportStatusRequest, response: pb.ReportStatusResponse,
      handle: (q: configserver.proto.v2.ReportStatusRequest) => {
        const id = instanceId(q.instance_id);
        if (!registry.get(id)) throw new DomainError("AgentNotExist", `Agent ${id} doesn't exist: send a heartbeat first.`);
        checkConfigCount(q.continuous_pipeline_configs?.length ?? 0, "continuous_pipeline_configs");
        checkConfigCount(q.instance_configs?.length ?? 0, "instance_configs");
        // A status report may name only some configs: the others keep what the last heartbeat said.
        const pipelines = reportsOf(q.continuous_pipeline_configs, NO_REPORTS);
        const instances = reportsOf(q.instance_configs, NO_REPORTS);
        registry.updateConfigs(id, "pipeline", pipelines);
        registry.updateConfigs(id, "instance", instances);
        return {};
      },
    }),
  ];
}
