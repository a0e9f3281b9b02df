import { FieldReader, fitsMessage, WireType, wireTable } from "./wire.ts";

/** The protocol a request on a shared path is in, or why it fits none (answered 400). */
export type Detected = "alpha" | "v1" | "v2" | { readonly error: string };

const { VARINT, LEN } = WireType;
const WIRE_NAMES = ["a varint", "a 64-bit number", "length-delimited", "a group start", "a group end", "a 32-bit number"];
const wireName = (w: number) => WIRE_NAMES[w] ?? `wire type ${w}`;

// v1 AgentAttributes: 1-6 strings, 100 extras (a map: LEN entries).
const V1_ATTRIBUTES = wireTable({ 1: LEN, 2: LEN, 3: LEN, 4: LEN, 5: LEN, 6: LEN, 100: LEN });
// A map<string, string> entry: key 1, value 2.
const MAP_ENTRY = wireTable({ 1: LEN, 2: LEN });

/** Two protocols' messages on one path: each field's wire type in each (-1: no such field), and what it is. */
interface Pair {
  readonly a: Int8Array;
  readonly b: Int8Array;
  readonly what: readonly string[];
}
function pair(fields: Record<number, readonly [a: number, b: number, what: string]>): Pair {
  const n = Math.max(...Object.keys(fields).map(Number)) + 1;
  const a = new Int8Array(n).fill(-1);
  const b = new Int8Array(n).fill(-1);
  const what: string[] = [];
  for (const [f, [x, y, w]] of Object.entries(fields)) {
    a[Number(f)] = x;
    b[Number(f)] = y;
    what[Number(f)] = w;
  }
  return { a, b, what };
}

/** The top-level fields of the two HeartBeatRequests: alpha's wire type, v1's. */
const HEARTBEAT = pair({
  1: [LEN, LEN, "request_id"],
  2: [LEN, LEN, "agent_id"],
  3: [LEN, LEN, "agent_type"],
  4: [LEN, LEN, "alpha agent_version / v1 attributes"],
  5: [LEN, LEN, "alpha ip / v1 tags"],
  6: [LEN, LEN, "alpha tags / v1 running_status"],
  7: [LEN, VARINT, "alpha running_status / v1 startup_time"],
  8: [VARINT, VARINT, "alpha startup_time / v1 interval"],
  9: [-1, LEN, "v1 pipeline_configs"],
  10: [-1, LEN, "v1 agent_configs"],
});

/** Whether an alpha agent_version could be these bytes: text starting with a printable ASCII character. */
const textStart = (b: number) => b >= 0x20 && b < 0x7f;

const top = new FieldReader();
const entry = new FieldReader();

/**
 * Alpha or v1 on `POST /Agent/HeartBeat` (docs/protocols/detection.md). The two HeartBeatRequests
 * agree on fields 1-3 (strings) and 8 (a varint) and differ:
 *   field 4  alpha agent_version (text)       · v1 attributes (an AgentAttributes message)
 *   field 5  alpha ip (once)                  · v1 tags (one field per tag value)
 *   field 6  alpha tags (map entries)         · v1 running_status (text)
 *   field 7  alpha running_status (a string)  · v1 startup_time (a varint)
 *   field 9, 10  v1 only (pipeline_configs, agent_configs)
 * A field 1-10 whose wire type fits neither is a 400 (a v2 HeartbeatRequest has varints in 2-3).
 * Evidence for v1: field 9 or 10; field 7 as a varint; field 5 more than once; field 4 empty (an
 * attributes message the agent set but left empty: an empty alpha string is never written) or a
 * well-formed AgentAttributes that does not start like text. Evidence for alpha: field 7 as a
 * string; field 6 that is a well-formed map entry (running_status text never starts with the
 * control byte 0x0a). One side's evidence decides; both is a 400; none is read as alpha (only ids
 * and strings: the same meaning in both, and every v1 agent sends attributes).
 */
export function detectHeartBeat(body: Uint8Array): Detected {
  // Evidence is kept as the field that gave it first (0: none); messages are made only for a 400.
  let v1 = 0;
  let alpha = 0;
  let field5 = 0;
  const { a: inAlpha, b: inV1 } = HEARTBEAT;
  const r = top.reset(body, 0, body.length);
  while (r.next()) {
    const field = r.field;
    if (field >= inAlpha.length) continue;
    const w = r.wireType;
    if (w !== inAlpha[field] && w !== inV1[field]) {
      if (inAlpha[field] === -1 && inV1[field] === -1) continue;
      let neither = `field ${field} (${HEARTBEAT.what[field]}) is ${wireName(w)}, which it is in neither alpha's nor v1's HeartBeatRequest`;
      if ((field === 2 || field === 3) && w === VARINT) neither += " (it looks like a v2 HeartbeatRequest: v2 agents send it to /Agent/Heartbeat, lower-case b)";
      return { error: `The request body is neither an alpha nor a v1 HeartBeatRequest: ${neither}.` };
    }
    switch (field) {
      case 4:
        if (v1 === 0 && (r.stop === r.start || (!textStart(body[r.start] as number) && fitsMessage(body, r.start, r.stop, V1_ATTRIBUTES)))) v1 = 4;
        break;
      case 5:
        if (++field5 === 2 && v1 === 0) v1 = 5;
        break;
      case 6:
        if (alpha === 0 && r.stop > r.start && body[r.start] === 0x0a && fitsMessage(body, r.start, r.stop, MAP_ENTRY)) alpha = 6;
        break;
      case 7:
        if (w === VARINT) v1 ||= 7;
        else alpha ||= 7;
        break;
      case 9:
      case 10:
        v1 ||= field;
        break;
    }
  }
  if (r.problem !== undefined) return { error: `The request body is not a valid protobuf HeartBeatRequest: ${r.problem}.` };
  if (v1 !== 0 && alpha !== 0) return { error: `The request body mixes the alpha and v1 HeartBeatRequest: ${HEARTBEAT_ALPHA[alpha]} (alpha), but ${HEARTBEAT_V1[v1] ?? ""} (v1).` };
  return v1 !== 0 ? "v1" : "alpha";
}
const HEARTBEAT_ALPHA: Record<number, string> = { 6: "field 6 is a tags map entry", 7: "field 7 is a string (running_status)" };
const HEARTBEAT_V1: Record<number, string> = {
  4: "field 4 is an AgentAttributes message",
  5: "field 5 is repeated (tag values)",
  7: "field 7 is a varint (startup_time)",
  9: "field 9 (pipeline_configs) is present",
  10: "field 10 (agent_configs) is present",
};

/** FetchPipelineConfigRequest (v1) and FetchConfigRequest (v2): top-level wire types. */
const FETCH = pair({
  1: [LEN, LEN, "request_id"],
  2: [LEN, LEN, "v1 agent_id / v2 instance_id"],
  3: [LEN, LEN, "v1 req_configs / v2 continuous_pipeline_configs"],
  4: [-1, LEN, "v2 instance_configs"],
  5: [-1, LEN, "v2 onetime_pipeline_configs"],
});
/** The ConfigInfo of each: v1 {1 type, 2 name, 3 version, 4 context}, v2 {1 name, 2 version, 3 status, 4 message, 5 extra}. */
const CONFIG_INFO = pair({
  1: [VARINT, LEN, "v1 type / v2 name"],
  2: [LEN, VARINT, "v1 name / v2 version"],
  3: [VARINT, VARINT, "v1 version / v2 status"],
  4: [LEN, LEN, "v1 context / v2 message"],
  5: [-1, LEN, "v2 extra"],
});
const FETCH_V1: Record<number, string> = { 1: "a config's field 1 is a varint (type)", 2: "a config's field 2 is length-delimited (name)" };
const FETCH_V2: Record<number, string> = {
  1: "a config's field 1 is length-delimited (name)",
  2: "a config's field 2 is a varint (version)",
  5: "a config has field 5 (extra)",
  14: "field 4 (instance_configs) is present",
  15: "field 5 (onetime_pipeline_configs) is present",
};

/**
 * v1 or v2 on `POST /Agent/FetchPipelineConfig` (docs/protocols/detection.md). Both requests have
 * strings in fields 1-2 and their config lists in field 3; only v2 has fields 4-5. In a config
 * entry, v1 has type (varint) in 1 and name (string) in 2, v2 has name (string) in 1 and version
 * (varint) in 2. A wire type that fits neither, at the top or in an entry, is a 400. Evidence for
 * v2: field 4 or 5; an entry with a string in 1, a varint in 2, or a field 5. Evidence for v1: an
 * entry with a varint in 1 or a string in 2. Both is a 400. None (no config asked for, as the v1
 * agent sends when every change is a deletion) is read as v1, whose answer to it is the request id
 * alone: a message both protocols read as an empty success.
 */
export function detectFetchPipelineConfig(body: Uint8Array): Detected {
  let v1 = 0;
  let v2 = 0;
  const r = top.reset(body, 0, body.length);
  const what = "The request body is neither a v1 FetchPipelineConfigRequest nor a v2 FetchConfigRequest";
  while (r.next()) {
    const field = r.field;
    if (field >= FETCH.a.length) continue;
    if (r.wireType !== FETCH.a[field] && r.wireType !== FETCH.b[field]) {
      if (FETCH.a[field] === -1 && FETCH.b[field] === -1) continue;
      return { error: `${what}: field ${field} (${FETCH.what[field]}) is ${wireName(r.wireType)}, which it is in neither.` };
    }
    if (field === 4 || field === 5) v2 ||= 10 + field;
    if (field !== 3) continue;
    const e = entry.reset(body, r.start, r.stop);
    while (e.next()) {
      const f = e.field;
      if (f >= CONFIG_INFO.a.length) continue;
      const inV1 = CONFIG_INFO.a[f];
      const inV2 = CONFIG_INFO.b[f];
      if (e.wireType !== inV1 && e.wireType !== inV2) {
        if (inV1 === -1 && inV2 === -1) continue;
        return { error: `${what}: a config's field ${f} (${CONFIG_INFO.what[f]}) is ${wireName(e.wireType)}, which it is in neither.` };
      }
      if (inV1 === inV2) continue;
      if (e.wireType === inV1) v1 ||= f;
      else v2 ||= f;
    }
    if (e.problem !== undefined) return { error: `The request body is not a valid protobuf FetchPipelineConfigRequest (v1) or FetchConfigRequest (v2): ${e.problem}.` };
  }
  if (r.problem !== undefined) return { error: `The request body is not a valid protobuf FetchPipelineConfigRequest (v1) or FetchConfigRequest (v2): ${r.problem}.` };
  if (v1 !== 0 && v2 !== 0) return { error: `The request body mixes the v1 FetchPipelineConfigRequest and the v2 FetchConfigRequest: ${FETCH_V1[v1]} (v1), but ${FETCH_V2[v2]} (v2).` };
  return v2 !== 0 ? "v2" : "v1";
}

/** The same decisions for protobuf JSON bodies, from the field names (both spellings). */
function detectJson(path: string, body: Uint8Array): Detected {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body).toString("utf8") || "{}");
  } catch (e) {
    return { error: `The request body is not valid JSON: ${(e as Error).message}.` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "The JSON body must be an object." };
  const has = (...names: string[]) => names.some((n) => Object.hasOwn(value as object, n));
  if (path === "/Agent/HeartBeat") {
    const tags = (value as { tags?: unknown }).tags;
    const v1 = has("attributes", "pipeline_configs", "pipelineConfigs", "agent_configs", "agentConfigs", "interval") || Array.isArray(tags);
    const alpha = has("agent_version", "agentVersion", "ip") || (tags !== undefined && tags !== null && !Array.isArray(tags));
    if (v1 && alpha) return { error: "The JSON body mixes alpha fields (agent_version, ip, a tags object) and v1 fields (attributes, pipeline_configs, interval, a tags list)." };
    return v1 ? "v1" : "alpha";
  }
  const v1 = has("agent_id", "agentId", "req_configs", "reqConfigs");
  const v2 = has("instance_id", "instanceId", "continuous_pipeline_configs", "continuousPipelineConfigs", "instance_configs", "instanceConfigs", "onetime_pipeline_configs", "onetimePipelineConfigs");
  if (v1 && v2) return { error: "The JSON body mixes v1 fields (agent_id, req_configs) and v2 fields (instance_id, continuous_pipeline_configs)." };
  return v2 ? "v2" : "v1";
}

/** The protocol of a request on a path two protocols share. */
export function pickProtocol(path: string, body: Uint8Array, json: boolean): Detected {
  if (json) return detectJson(path, body);
  if (path === "/Agent/HeartBeat") return detectHeartBeat(body);
  if (path === "/Agent/FetchPipelineConfig") return detectFetchPipelineConfig(body);
  return { error: `${path} is not a shared path.` };
}
