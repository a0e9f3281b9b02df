// The shared-path rule (src/protocols/detect.ts, docs/protocols/detection.md) on the exact bytes
// each real client sends. The bodies are built here by hand, field by field, in the order and with
// the presence the clients' C++ code gives them (proto3 SerializeToString: fields in number order,
// zero values left out, a sub-message that was set written even when empty, every element of a
// repeated field written), not with our generated encoder, so the test does not share its bugs.
import test from "ava";
import { detectFetchPipelineConfig, detectHeartBeat, pickProtocol } from "../../src/protocols/detect.ts";

const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
};
/** One field: key, then a varint, or a length and the bytes. */
const str = (field: number, s: string | number[]): number[] => {
  const bytes = typeof s === "string" ? [...Buffer.from(s, "utf8")] : s;
  return [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
};
const int = (field: number, n: number | bigint): number[] => (n === 0 ? [] : [...varint(field * 8), ...varint(n)]);
/** A proto3 string field: left out when empty. */
const opt = (field: number, s: string): number[] => (s === "" ? [] : str(field, s));
const body = (...fields: (number[] | Uint8Array)[]) => Uint8Array.from(fields.flatMap((f) => [...f]));
const b64 = (s: string) => Buffer.from(s).toString("base64");

/**
 * The alpha heartbeat of ilogtail PR #406 (ConfigManager::SendHeartbeat, commit 0eae906d6): request
 * id Base64("heartbeat" + seconds), agent_id, agent_type "iLogtail", agent_version, ip,
 * running_status "" and startup_time 0 (left out), tags from ilogtail_tags as map<string,string>.
 */
function alphaHeartbeat(o: { version?: string; ip?: string; tags?: [string, string][] } = {}): Uint8Array {
  return body(
    str(1, b64("heartbeat1733040000")),
    str(2, "0A1B2C3D-instance"),
    str(3, "iLogtail"),
    opt(4, o.version ?? "1.1.1"),
    opt(5, o.ip ?? "10.0.0.12"),
    // map entries always carry key (1) and value (2), even when empty.
    ...(o.tags ?? [["env", "prod"]]).map(([k, v]) => str(6, [...str(1, k), ...str(2, v)])),
  );
}

/**
 * LegacyCommonConfigProvider::SendHeartbeat (loongcollector main): request id Base64("heartbeat" +
 * seconds), agent_id = instance id, agent_type "iLogtail", attributes {version, ip} (set through
 * mutable_attributes, so present even when both are empty), tags = the *values* of ilogtail_tags,
 * running_status "" and startup_time 0 (left out), interval, pipeline_configs {type PIPELINE_CONFIG
 * (0, left out), name, version} of every config it holds.
 */
function legacyHeartbeat(o: { version?: string; ip?: string; tagValues?: string[]; interval?: number; configs?: [string, number][] } = {}): Uint8Array {
  return body(
    str(1, b64("heartbeat1733040000")),
    str(2, "0A1B2C3D-instance"),
    str(3, "iLogtail"),
    str(4, [...opt(1, o.version ?? "3.0.5"), ...opt(3, o.ip ?? "10.0.0.12")]),
    ...(o.tagValues ?? ["prod"]).map((v) => str(5, v)),
    int(8, o.interval ?? 10),
    ...(o.configs ?? [["nginx", 3]]).map(([name, version]) => str(9, [...str(2, name), ...int(3, version)])),
  );
}

/** LegacyCommonConfigProvider::FetchPipelineConfig: {type (0, left out), name, new_version, context ""} of each NEW/MODIFIED result. */
function legacyFetch(configs: [string, number][]): Uint8Array {
  return body(str(1, b64("0A1B2C3D-instance_1733040000")), str(2, "0A1B2C3D-instance"), ...configs.map(([name, version]) => str(3, [...str(2, name), ...int(3, version)])));
}

/** CommonConfigProvider::FetchPipelineConfigFromServer (v2): {name, version} of each update of the heartbeat answer. */
function v2Fetch(configs: [string, number][]): Uint8Array {
  return body(str(1, "2f0c7c1e-5d1b-4a51-9f0e-3c1f6f3e9a11"), str(2, "0A1B2C3D-instance"), ...configs.map(([name, version]) => str(3, [...opt(1, name), ...int(2, version)])));
}

/** CommonConfigProvider::PrepareHeartbeat (v2), as it would arrive if sent to /Agent/HeartBeat by mistake. */
function v2Heartbeat(sequence: number): Uint8Array {
  return body(
    str(1, "2f0c7c1e-5d1b-4a51-9f0e-3c1f6f3e9a11"),
    int(2, sequence),
    int(3, 3),
    str(4, "0A1B2C3D-instance"),
    str(5, "LoongCollector"),
    str(6, [...str(1, "3.0.5"), ...str(2, "10.0.0.12"), ...str(3, "host-1"), ...str(100, [...str(1, "osDetail"), ...str(2, "Linux")])]),
    str(7, [...str(1, "env"), ...str(2, "prod")]),
    str(8, "running"),
    int(9, 1733040000),
  );
}

test("alpha PR #406 heartbeats are alpha, with and without tags, version and ip", (t) => {
  t.is(detectHeartBeat(alphaHeartbeat()), "alpha");
  t.is(detectHeartBeat(alphaHeartbeat({ tags: [] })), "alpha");
  t.is(detectHeartBeat(alphaHeartbeat({ tags: [["env", "prod"], ["region", ""], ["", "x"]] })), "alpha");
  t.is(detectHeartBeat(alphaHeartbeat({ version: "", ip: "", tags: [] })), "alpha");
  // An alpha agent that reports its running status (field 7, a string) and startup time.
  t.is(detectHeartBeat(body(alphaHeartbeat({ tags: [] }), str(7, "running"), int(8, 1733040000))), "alpha");
  // Only the ids: the same in both, read as alpha; an empty body too (then "Need parameter AgentID.").
  t.is(detectHeartBeat(body(str(1, "r"), str(2, "a"))), "alpha");
  t.is(detectHeartBeat(new Uint8Array()), "alpha");
});

test("LegacyCommonConfigProvider heartbeats are v1, whatever it holds", (t) => {
  t.is(detectHeartBeat(legacyHeartbeat()), "v1");
  // A fresh agent: no configs, no tags: the attributes message decides.
  t.is(detectHeartBeat(legacyHeartbeat({ tagValues: [], configs: [] })), "v1");
  // Attributes with only an ip (field 3), or set but empty (version and ip unknown).
  t.is(detectHeartBeat(legacyHeartbeat({ version: "", tagValues: [], configs: [] })), "v1");
  t.is(detectHeartBeat(legacyHeartbeat({ version: "", ip: "", tagValues: [], configs: [] })), "v1");
  t.is(detectHeartBeat(legacyHeartbeat({ tagValues: ["prod", "web", ""], configs: [["a", 1], ["b", 99999999999]] })), "v1");
  // Another v1 client that fills attributes extras only (field 100: the first byte is 0xa2).
  t.is(detectHeartBeat(body(str(2, "x"), str(4, str(100, [...str(1, "k"), ...str(2, "v")])))), "v1");
  // Two tag values and nothing else v1-specific (no attributes: not the Legacy client, but v1).
  t.is(detectHeartBeat(body(str(2, "x"), str(5, "prod"), str(5, "web"))), "v1");
  t.is(detectHeartBeat(body(str(2, "x"), int(7, 1733040000))), "v1");
});

test("a v2 heartbeat on /Agent/HeartBeat, contradictions and broken bytes are refused with a reason", (t) => {
  const v2 = detectHeartBeat(v2Heartbeat(4));
  t.true(typeof v2 === "object");
  t.regex((v2 as { error: string }).error, /field 2 \(agent_id\) is a varint.*v2 HeartbeatRequest.*\/Agent\/Heartbeat/);
  // The first v2 heartbeat has sequence 0 (left out): field 3 (capabilities 3) is the varint.
  t.regex((detectHeartBeat(v2Heartbeat(0)) as { error: string }).error, /field 3 \(agent_type\) is a varint/);

  const mixed = detectHeartBeat(body(alphaHeartbeat(), str(9, str(2, "nginx"))));
  t.regex((mixed as { error: string }).error, /mixes the alpha and v1 HeartBeatRequest: field 6 is a tags map entry \(alpha\), but field 9 \(pipeline_configs\) is present \(v1\)/);

  t.regex((detectHeartBeat(Uint8Array.from([0x0a, 0xff, 0x01, 0x02])) as { error: string }).error, /not a valid protobuf HeartBeatRequest: field 1 at byte 0 runs past the end/);
  const whole = legacyHeartbeat();
  t.regex((detectHeartBeat(whole.subarray(0, whole.length - 3)) as { error: string }).error, /not a valid protobuf HeartBeatRequest/);
  t.regex((detectHeartBeat(Uint8Array.from([0x00, 0x01])) as { error: string }).error, /field number 0/);
  t.regex((detectHeartBeat(body([0x0d, 1, 2, 3, 4])) as { error: string }).error, /field 1 \(request_id\) is a 32-bit number/);
});

test("LegacyCommonConfigProvider fetches are v1; CommonConfigProvider fetches are v2", (t) => {
  t.is(detectFetchPipelineConfig(legacyFetch([["nginx", 4]])), "v1");
  t.is(detectFetchPipelineConfig(legacyFetch([["nginx", 4], ["java", 12]])), "v1");
  t.is(detectFetchPipelineConfig(v2Fetch([["nginx", 4]])), "v2");
  // A removal the heartbeat answered (-1, a ten-byte varint) fetched again by a v2 agent.
  t.is(detectFetchPipelineConfig(v2Fetch([["nginx", -1], ["java", 7]])), "v2");
  t.is(detectFetchPipelineConfig(body(str(2, "id"), str(4, [...str(1, "loong"), ...int(2, 3)]))), "v2");
});

test("a fetch naming no config is v1: its answer (the request id alone) reads as an empty success in both", (t) => {
  // The Legacy agent sends one when every check result is DELETED; a v2 agent when only instance configs changed.
  t.is(detectFetchPipelineConfig(legacyFetch([])), "v1");
  t.is(detectFetchPipelineConfig(v2Fetch([])), "v1");
  t.is(detectFetchPipelineConfig(new Uint8Array()), "v1");
});

test("fetch bodies that fit neither, mix both or are broken are refused with a reason", (t) => {
  const err = (b: Uint8Array) => (detectFetchPipelineConfig(b) as { error: string }).error;
  t.regex(err(body(str(1, "r"), int(2, 5))), /neither a v1 FetchPipelineConfigRequest nor a v2 FetchConfigRequest: field 2 .* is a varint/);
  t.regex(err(body(str(3, [...str(1, "n"), ...str(2, "x")]))), /mixes the v1 FetchPipelineConfigRequest and the v2 FetchConfigRequest/);
  t.regex(err(body(str(3, [0x0a, 0x05, 0x61]))), /not a valid protobuf FetchPipelineConfigRequest \(v1\) or FetchConfigRequest \(v2\)/);
  t.regex(err(body(str(3, [0x19, 1, 2, 3, 4, 5, 6, 7, 8]))), /a config's field 3 .* is a 64-bit number/);
});

test("JSON bodies are told apart by their field names", (t) => {
  const json = (path: string, v: unknown) => pickProtocol(path, Buffer.from(JSON.stringify(v)), true);
  t.is(json("/Agent/HeartBeat", { agent_id: "a", tags: { env: "prod" } }), "alpha");
  t.is(json("/Agent/HeartBeat", { agentId: "a", agentVersion: "1" }), "alpha");
  t.is(json("/Agent/HeartBeat", { agent_id: "a", tags: ["prod"], interval: 10 }), "v1");
  t.is(json("/Agent/HeartBeat", { agent_id: "a", pipelineConfigs: [] }), "v1");
  t.regex((json("/Agent/HeartBeat", { ip: "x", attributes: {} }) as { error: string }).error, /mixes alpha fields/);
  t.is(json("/Agent/FetchPipelineConfig", { agent_id: "a", req_configs: [{ name: "x" }] }), "v1");
  t.is(json("/Agent/FetchPipelineConfig", { instanceId: "YQ==", continuousPipelineConfigs: [] }), "v2");
  t.is(json("/Agent/FetchPipelineConfig", {}), "v1");
  t.regex((pickProtocol("/Agent/HeartBeat", Buffer.from("{"), true) as { error: string }).error, /not valid JSON/);
  t.regex((pickProtocol("/Agent/HeartBeat", Buffer.from("[]"), true) as { error: string }).error, /must be an object/);
});

test("the protobuf generator the tests use writes what the clients write (so acceptance tests send the same bytes)", async (t) => {
  const { configserver } = await import("../../src/gen/proto.js");
  const v1 = configserver.proto.v1;
  const ours = v1.HeartBeatRequest.encode({
    request_id: b64("heartbeat1733040000"), agent_id: "0A1B2C3D-instance", agent_type: "iLogtail", attributes: { version: "3.0.5", ip: "10.0.0.12" },
    tags: ["prod"], running_status: "", startup_time: 0 as never, interval: 10, pipeline_configs: [{ type: 0, name: "nginx", version: 3 as never }],
  }).finish();
  t.deepEqual(Buffer.from(ours).toString("hex"), Buffer.from(legacyHeartbeat()).toString("hex"));
  const fetched = v1.FetchPipelineConfigRequest.encode({ request_id: b64("0A1B2C3D-instance_1733040000"), agent_id: "0A1B2C3D-instance", req_configs: [{ type: 0, name: "nginx", version: 4 as never, context: "" }] }).finish();
  t.deepEqual(Buffer.from(fetched).toString("hex"), Buffer.from(legacyFetch([["nginx", 4]])).toString("hex"));
});
