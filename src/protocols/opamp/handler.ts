import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AgentRecord, Heartbeat } from "../../domain/agent.ts";
import { STATUS_KEYS } from "../../domain/agentStatus.ts";
import { DomainError } from "../../domain/errors.ts";
import { tagsKey } from "../../domain/matching.ts";
import type { opamp } from "../../gen/proto.js";
import { cacheable, type CacheableReply } from "../answerCache.ts";
import type { Replied } from "../routeContract.ts";
import { int64, servedState, type AgentDeps } from "../protocol.ts";
import { effectiveText, healthExtras, remoteStatusExtras, reportsOf, sameReports, tagsOf } from "./agentState.ts";
import { GZIPPED, instanceIdOf } from "./codec.ts";
import { filesOfHash, servedMap, type ServedMap } from "./configMap.ts";

type AgentToServer = opamp.proto.v1.AgentToServer;

/** AgentCapabilities bits this server reads. */
const ACCEPTS_REMOTE_CONFIG = 0x2;
const ACCEPTS_OPAMP_CONNECTION_SETTINGS = 0x100;
const REPORTS_HEARTBEAT = 0x2000;
/** ServerCapabilities: AcceptsStatus | OffersRemoteConfig | AcceptsEffectiveConfig. */
export const SERVER_CAPABILITIES = 0x1 | 0x2 | 0x4;
/** ServerToAgentFlags_ReportFullState. */
export const REPORT_FULL_STATE = 1;
/** The heartbeat interval offered to agents that accept connection settings (the spec's recommended default). */
export const HEARTBEAT_SECONDS = 30;
const CONNECTION_SETTINGS = Object.freeze({
  hash: createHash("sha256").update(`opamp heartbeat ${HEARTBEAT_SECONDS}s`).digest(),
  opamp: Object.freeze({ heartbeat_interval_seconds: HEARTBEAT_SECONDS }),
});

/** The common answer: nothing to say. Declared cacheable, so it is encoded once (answerCache.ts). */
const NOTHING = cacheable({ capabilities: SERVER_CAPABILITIES });
const FULL_STATE = cacheable({ capabilities: SERVER_CAPABILITIES, flags: REPORT_FULL_STATE });
const EMPTY_EXTRAS: Readonly<Record<string, string>> = Object.freeze({});
/** Answers carrying a map, per map and flags: shared like the map, and encoded once. */
const withMap = [new WeakMap<ServedMap, CacheableReply>(), new WeakMap<ServedMap, CacheableReply>()];

function answer(map: ServedMap | undefined, fullState: boolean, offerHeartbeat: boolean): Replied {
  if (offerHeartbeat) return { capabilities: SERVER_CAPABILITIES, flags: fullState ? REPORT_FULL_STATE : 0, connection_settings: CONNECTION_SETTINGS, ...(map ? { remote_config: map.remoteConfig } : {}) };
  if (map === undefined) return fullState ? FULL_STATE : NOTHING;
  const cache = withMap[fullState ? 1 : 0] as WeakMap<ServedMap, CacheableReply>;
  let reply = cache.get(map);
  if (reply === undefined) cache.set(map, (reply = cacheable({ capabilities: SERVER_CAPABILITIES, flags: fullState ? REPORT_FULL_STATE : 0, remote_config: map.remoteConfig })));
  return reply;
}

/** The spec: a server honours Content-Encoding; gzip is the one encoding clients use. */
function checkEncoding(q: AgentToServer, req: IncomingMessage): void {
  const header = (req.headers["content-encoding"] ?? "").trim().toLowerCase();
  const gzipped = (q as unknown as Record<symbol, unknown>)[GZIPPED] === true;
  if (header === "" || header === "identity") return;
  if (header !== "gzip") throw new DomainError("BadRequest", `Content-Encoding ${JSON.stringify(header)} is not supported: send the AgentToServer uncompressed or gzipped.`);
  if (!gzipped) throw new DomainError("BadRequest", "Content-Encoding says gzip, but the body is not a gzip stream.");
}

/**
 * One AgentToServer → one ServerToAgent (docs/protocols/opamp.md). Reads and writes memory only.
 *
 * OpAMP agents send only what changed after their first message, so what the record holds is the
 * rest: the last description (tags), health, effective config and remote-config status. A server
 * that lacks the agent (a restart, another replica, expiry) or sees a gap in its sequence numbers
 * asks for its full state (ReportFullState); until it has it, it sends no config.
 */
export function opampHandler(deps: AgentDeps): (q: AgentToServer, req: IncomingMessage) => Replied {
  const { registry, store } = deps;
  return (q, req) => {
    const uid = q.instance_uid;
    if (!uid || uid.length === 0) throw new DomainError("BadRequest", "Need instance_uid: the agent's id (bytes, field 1 of AgentToServer; 16 bytes, a UUID v7).");
    if (uid.length > 64) throw new DomainError("BadRequest", `instance_uid is ${uid.length} bytes; the spec's is 16.`);
    checkEncoding(q, req);
    const id = instanceIdOf(uid);
    const before = registry.get(id);
    const prev: AgentRecord | undefined = before?.heartbeat?.protocol === "opamp" ? before : undefined;
    const prevBeat = prev?.heartbeat;
    const sequence = int64(q.sequence_num as Parameters<typeof int64>[0]);
    const described = q.agent_description != null;
    // Without a description and unknown here, its tags are not known: nothing can be chosen for it.
    if (prevBeat === undefined && !described) return FULL_STATE;
    const last = prev?.sequenceNum;
    const inStep = last !== undefined && (sequence === last + 1 || sequence === last);
    const fullState = prevBeat === undefined ? false : !inStep;

    // Checked before anything is stored: a bad request leaves the record as it was.
    const named = described ? tagsOf(q.agent_description as opamp.proto.v1.IAgentDescription) : (prevBeat as Heartbeat).tags.named;
    const oldExtras = prevBeat?.attributes.extras ?? EMPTY_EXTRAS;
    let extras: Record<string, string> | undefined;
    const edit = () => (extras ??= { ...oldExtras });
    if (q.health) healthExtras(q.health, edit());
    if (q.effective_config) edit()[STATUS_KEYS.effectiveConfig] = effectiveText(q.effective_config);
    if (q.remote_config_status) remoteStatusExtras(q.remote_config_status, edit());
    const capabilities = int64(q.capabilities as Parameters<typeof int64>[0]) || prevBeat?.capabilities || 0;
    const tags = described ? { named } : (prevBeat as Heartbeat).tags;
    const disconnecting = q.agent_disconnect != null;

    // The map its groups give it, when a commit is served.
    const state = store.state;
    const map = state.commit === "" ? undefined : servedMap(state, state.applied(described ? tagsKey(tags) : (prev as AgentRecord).tagsKey, tags).opamp);
    const now = extras ?? oldExtras;
    const reported = now[STATUS_KEYS.remoteHash] ?? "";
    const sent = now[STATUS_KEYS.sentHash] ?? "";
    const send = map !== undefined && !disconnecting && (capabilities & ACCEPTS_REMOTE_CONFIG) !== 0 && map.hex !== reported && map.hex !== sent ? map : undefined;
    if (send) edit()[STATUS_KEYS.sentHash] = send.hex;

    const e = extras ?? oldExtras;
    const healthy = e[STATUS_KEYS.health];
    registry.heartbeat({
      agentId: id,
      protocol: "opamp",
      attributes: { agentType: named["service.name"] ?? "", version: named["service.version"] ?? "", ip: "", hostname: named["host.name"] ?? "", extras: e },
      tags,
      runningStatus: disconnecting ? "disconnected" : healthy === undefined ? "" : e[STATUS_KEYS.healthStatus] || (healthy === "true" ? "healthy" : "unhealthy"),
      startupTime: q.health ? Math.floor(int64(q.health.start_time_unix_nano as Parameters<typeof int64>[0]) / 1e9) : prevBeat?.startupTime ?? 0,
      intervalSeconds: capabilities & REPORTS_HEARTBEAT ? HEARTBEAT_SECONDS : undefined,
      sequenceNum: sequence,
      capabilities,
    });
    // What the reported hash's map is (this snapshot's, or one served before): its configs then
    // carry the reported status, and feed the same rollout view as v2 agents' reports.
    const files = reported === "" ? [] : map !== undefined && reported === map.hex ? map.files : filesOfHash(reported);
    if (files !== undefined && (q.remote_config_status || reported !== "")) {
      const reports = reportsOf(files, e);
      if (!sameReports(before, reports)) registry.reportConfigs(id, "pipeline", reports);
    }
    // Its status is recorded; its config cannot be answered (an empty map would make it drop what
    // it runs): Unavailable with retry info, as every protocol answers ServerBusy then.
    if (map === undefined && !disconnecting && (capabilities & ACCEPTS_REMOTE_CONFIG) !== 0) servedState(store);
    const offerHeartbeat = prevBeat === undefined && (capabilities & ACCEPTS_OPAMP_CONNECTION_SETTINGS) !== 0 && (capabilities & REPORTS_HEARTBEAT) !== 0;
    return answer(send, fullState, offerHeartbeat);
  };
}
