import { fitsMessage, scanFields, WireType } from "./wire.ts";

/** The protocol a request on a shared path is in, or why it fits none (answered 400). */
export type Detected = "alpha" | "v1" | "v2" | { readonly error: string };

const { VARINT, LEN } = WireType;
const WIRE_NAMES = ["a varint", "a 64-bit number", "length-delimited", "a group start", "a group end", "a 32-bit number"];
const wireName = (w: number) => WIRE_NAMES[w] ?? `wire type ${w}`;

// v1 AgentAttributes: 1-6 strings, 100 extras (a map: LEN entries).
const V1_ATTRIBUTES: Record<number, number> = { 1: LEN, 2: LEN, 3: LEN, 4: LEN, 5: LEN, 6: LEN, 100: LEN };
// A map<string, string> entry: key 1, value 2.
const MAP_ENTRY: Record<number, number> = { 1: LEN, 2: LEN };

/**
 * Each top-level field of the two HeartBeatRequests: its wire type in alpha and in v1 (-1: the
 * protocol has no such field) and what it is, for messages.
 */
const HEARTBEAT: Record<number, readonly [alpha: number, v1: number, what: string]> = {
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
};

/** Whether an alpha agent_version could be these bytes: text starting with a printable ASCII character. */
const textStart = (b: number) => b >= 0x20 && b < 0x7f;

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
  let v1 = "";
  let alpha = "";
  let neither = "";
  let field5 = 0;
  const problem = scanFields(body, 0, body.length, (field, wireType, start, end) => {
    const known = HEARTBEAT[field];
    if (known === undefined) return;
    const [inAlpha, inV1, what] = known;
    if (wireType !== inAlpha && wireType !== inV1) {
      neither = `field ${field} (${what}) is ${wireName(wireType)}, which it is in neither alpha's nor v1's HeartBeatRequest`;
      if ((field === 2 || field === 3) && wireType === VARINT) neither += " (it looks like a v2 HeartbeatRequest: v2 agents send it to /Agent/Heartbeat, lower-case b)";
      return false;
    }
    switch (field) {
      case 4:
        if (end === start) v1 ||= "field 4 is an empty AgentAttributes message";
        else if (!textStart(body[start] as number) && fitsMessage(body, start, end, V1_ATTRIBUTES)) v1 ||= "field 4 is an AgentAttributes message";
        break;
      case 5:
        if (++field5 === 2) v1 ||= "field 5 is repeated (tag values)";
        break;
      case 6:
        if (end > start && body[start] === 0x0a && fitsMessage(body, start, end, MAP_ENTRY)) alpha ||= "field 6 is a tags map entry";
        break;
      case 7:
        if (wireType === VARINT) v1 ||= "field 7 is a varint (startup_time)";
        else alpha ||= "field 7 is a string (running_status)";
        break;
      case 9:
      case 10:
        v1 ||= `field ${field} (${field === 9 ? "pipeline_configs" : "agent_configs"}) is present`;
        break;
    }
  });
  if (problem !== undefined) return { error: `The request body is not a valid protobuf HeartBeatRequest: ${problem}.` };
  if (neither) return { error: `The request body is neither an alpha nor a v1 HeartBeatRequest: ${neither}.` };
  if (v1 && alpha) return { error: `The request body mixes the alpha and v1 HeartBeatRequest: ${alpha} (alpha), but ${v1} (v1).` };
  return v1 ? "v1" : "alpha";
}

/** FetchPipelineConfigRequest (v1) and FetchConfigRequest (v2): top-level wire types. */
const FETCH: Record<number, readonly [v1: number, v2: number, what: string]> = {
  1: [LEN, LEN, "request_id"],
  2: [LEN, LEN, "v1 agent_id / v2 instance_id"],
  3: [LEN, LEN, "v1 req_configs / v2 continuous_pipeline_configs"],
  4: [-1, LEN, "v2 instance_configs"],
  5: [-1, LEN, "v2 onetime_pipeline_configs"],
};
/** The ConfigInfo of each: v1 {1 type, 2 name, 3 version, 4 context}, v2 {1 name, 2 version, 3 status, 4 message, 5 extra}. */
const CONFIG_INFO: Record<number, readonly [v1: number, v2: number, what: string]> = {
  1: [VARINT, LEN, "v1 type / v2 name"],
  2: [LEN, VARINT, "v1 name / v2 version"],
  3: [VARINT, VARINT, "v1 version / v2 status"],
  4: [LEN, LEN, "v1 context / v2 message"],
  5: [-1, LEN, "v2 extra"],
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
  let v1 = "";
  let v2 = "";
  let neither = "";
  let inner: string | undefined;
  const problem = scanFields(body, 0, body.length, (field, wireType, start, end) => {
    const known = FETCH[field];
    if (known === undefined) return;
    if (wireType !== known[0] && wireType !== known[1]) {
      neither = `field ${field} (${known[2]}) is ${wireName(wireType)}`;
      return false;
    }
    if (field === 4 || field === 5) v2 ||= `field ${field} (${known[2]}) is present`;
    if (field !== 3) return;
    inner = scanFields(body, start, end, (f, w) => {
      const k = CONFIG_INFO[f];
      if (k === undefined) return;
      const [inV1, inV2, what] = k;
      if (w !== inV1 && w !== inV2) {
        neither = `a config's field ${f} (${what}) is ${wireName(w)}`;
        return false;
      }
      if (inV1 === inV2) return;
      if (w === inV1) v1 ||= `a config's field ${f} is ${wireName(w)} (${f === 1 ? "type" : "name"})`;
      else v2 ||= `a config's field ${f} is ${wireName(w)} (${f === 1 ? "name" : f === 2 ? "version" : "extra"})`;
    });
    if (inner !== undefined || neither) return false;
  });
  if (problem !== undefined || inner !== undefined) return { error: `The request body is not a valid protobuf FetchPipelineConfigRequest (v1) or FetchConfigRequest (v2): ${problem ?? inner}.` };
  if (neither) return { error: `The request body is neither a v1 FetchPipelineConfigRequest nor a v2 FetchConfigRequest: ${neither}, which it is in neither.` };
  if (v1 && v2) return { error: `The request body mixes the v1 FetchPipelineConfigRequest and the v2 FetchConfigRequest: ${v1} (v1), but ${v2} (v2).` };
  return v2 ? "v2" : "v1";
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
