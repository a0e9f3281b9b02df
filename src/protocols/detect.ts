import { fitsMessage, scanFields, WireType } from "./wire.ts";

/** The protocol a request on a shared path is in, or why it fits none (answered 400). */
export type Detected = "alpha" | "v1" | "v2" | { readonly error: string };

const { VARINT, LEN } = WireType;

// v1 AgentAttributes: 1-6 strings, 100 extras (a map: LEN entries).
const V1_ATTRIBUTES: Record<number, number> = { 1: LEN, 2: LEN, 3: LEN, 4: LEN, 5: LEN, 6: LEN, 100: LEN };
// A map<string, string> entry: key 1, value 2.
const MAP_ENTRY: Record<number, number> = { 1: LEN, 2: LEN };

/**
 * Alpha or v1 on `POST /Agent/HeartBeat` (docs/protocols.md, "Telling requests apart"). The two
 * HeartBeatRequests agree on fields 1-3 (request_id, agent_id, agent_type: strings) and differ:
 *   field 4  alpha agent_version (a string) · v1 attributes (an AgentAttributes message)
 *   field 6  alpha tags (map entries)       · v1 running_status (a string)
 *   field 7  alpha running_status (a string) · v1 startup_time (a varint)
 *   field 9, 10  v1 only (pipeline_configs, agent_configs)
 * Evidence for v1: field 9 or 10; field 7 as a varint; field 4 that is a well-formed AgentAttributes
 * starting with a field key below 0x20 (a version string starts with a printable character).
 * Evidence for alpha: field 7 as a string; field 6 that is a well-formed map entry (a running
 * status never starts with the control byte 0x0a).
 * Only one side's evidence decides; both is a contradiction (400); none is read as alpha (a
 * request with only ids and strings means the same in both, and v1 agents always send attributes).
 */
export function detectHeartBeat(body: Uint8Array): Detected {
  let v1 = "";
  let alpha = "";
  const problem = scanFields(body, 0, body.length, (field, wireType, start, end) => {
    switch (field) {
      case 4:
        if (wireType === LEN && end > start && (body[start] as number) < 0x20 && fitsMessage(body, start, end, V1_ATTRIBUTES)) v1 ||= "field 4 is an AgentAttributes message";
        break;
      case 6:
        if (wireType === LEN && end > start && body[start] === 0x0a && fitsMessage(body, start, end, MAP_ENTRY)) alpha ||= "field 6 is a tags map entry";
        break;
      case 7:
        if (wireType === VARINT) v1 ||= "field 7 is a varint (startup_time)";
        else if (wireType === LEN) alpha ||= "field 7 is a string (running_status)";
        break;
      case 9:
      case 10:
        v1 ||= `field ${field} (${field === 9 ? "pipeline_configs" : "agent_configs"}) is present`;
        break;
    }
  });
  if (problem !== undefined) return { error: `The request body is not a valid protobuf HeartBeatRequest: ${problem}.` };
  if (v1 && alpha) return { error: `The request body mixes the alpha and v1 HeartBeatRequest: ${alpha} (alpha), but ${v1} (v1).` };
  return v1 ? "v1" : "alpha";
}

/**
 * v1 or v2 on `POST /Agent/FetchPipelineConfig`. v1's request has req_configs (field 3) of
 * ConfigInfo {1 type (varint), 2 name (string), 3 version, 4 context}; v2's has
 * continuous_pipeline_configs (field 3) of ConfigInfo {1 name (string), 2 version (varint), 3
 * status, 4 message, 5 extra} and fields 4-5 for other kinds. Evidence for v2: field 4 or 5, or a
 * field-3 entry whose field 1 is a string or field 2 a varint, or that has field 5. Evidence for
 * v1: a field-3 entry whose field 1 is a varint or field 2 a string. Both is a contradiction;
 * none (no configs asked for) is read as v2, whose answer is then empty.
 */
export function detectFetchPipelineConfig(body: Uint8Array): Detected {
  let v1 = "";
  let v2 = "";
  let inner: string | undefined;
  const problem = scanFields(body, 0, body.length, (field, wireType, start, end) => {
    if (field === 4 || field === 5) v2 ||= `field ${field} (${field === 4 ? "instance_configs" : "onetime_pipeline_configs"}) is present`;
    if (field !== 3 || wireType !== LEN) return;
    inner = scanFields(body, start, end, (f, w) => {
      if (f === 1) {
        if (w === LEN) v2 ||= "a config's field 1 is a string (name)";
        else if (w === VARINT) v1 ||= "a config's field 1 is a varint (type)";
      } else if (f === 2) {
        if (w === VARINT) v2 ||= "a config's field 2 is a varint (version)";
        else if (w === LEN) v1 ||= "a config's field 2 is a string (name)";
      } else if (f === 5) v2 ||= "a config has field 5 (extra)";
    });
    if (inner !== undefined) return false;
  });
  if (problem !== undefined || inner !== undefined) return { error: `The request body is not a valid protobuf FetchPipelineConfigRequest or FetchConfigRequest: ${problem ?? inner}.` };
  if (v1 && v2) return { error: `The request body mixes the v1 FetchPipelineConfigRequest and the v2 FetchConfigRequest: ${v1} (v1), but ${v2} (v2).` };
  return v1 ? "v1" : "v2";
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
    const v1 = has("attributes", "pipeline_configs", "pipelineConfigs", "agent_configs", "agentConfigs", "interval") || Array.isArray((value as { tags?: unknown }).tags);
    const alpha = has("agent_version", "agentVersion", "ip") || ((value as { tags?: unknown }).tags !== undefined && !Array.isArray((value as { tags?: unknown }).tags));
    if (v1 && alpha) return { error: "The JSON body mixes alpha fields (agent_version, ip, a tags object) and v1 fields (attributes, pipeline_configs, interval, a tags list)." };
    return v1 ? "v1" : "alpha";
  }
  const v1 = has("agent_id", "agentId", "req_configs", "reqConfigs");
  const v2 = has("instance_id", "instanceId", "continuous_pipeline_configs", "continuousPipelineConfigs", "instance_configs", "instanceConfigs", "onetime_pipeline_configs", "onetimePipelineConfigs");
  if (v1 && v2) return { error: "The JSON body mixes v1 fields (agent_id, req_configs) and v2 fields (instance_id, continuous_pipeline_configs)." };
  return v1 ? "v1" : "v2";
}

/** The protocol of a request on a path two protocols share. */
export function pickProtocol(path: string, body: Uint8Array, json: boolean): Detected {
  if (json) return detectJson(path, body);
  if (path === "/Agent/HeartBeat") return detectHeartBeat(body);
  if (path === "/Agent/FetchPipelineConfig") return detectFetchPipelineConfig(body);
  return { error: `${path} is not a shared path.` };
}
