// The cost of telling protocols apart on a shared path (src/protocols/detect.ts), in-process: the
// rule on the exact bodies the benchmark's agents send, against protobufjs decoding the same body
// (which every request pays anyway). Reported per call; run alone, it takes a few seconds.
// Run: node --import tsx bench/detect.ts [iterations]
import { configserver } from "../src/gen/proto.js";
import { detectFetchPipelineConfig, detectHeartBeat } from "../src/protocols/detect.ts";
import { configName } from "./fleet.ts";
import { encodeRequests, v1Heartbeat } from "./loadgen.ts";

const N = Number(process.argv[2] ?? 300_000);
const versions = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [configName(i), i + 1]));
const bodyOf = (request: Buffer) => request.subarray(request.indexOf("\r\n\r\n") + 4);
const alphaBeat = bodyOf(encodeRequests({ kind: "heartbeat", agents: 1 })[0] as Buffer);
const v1Beat = v1Heartbeat(0, versions);
const legacyFetch = configserver.proto.v1.FetchPipelineConfigRequest.encode({
  request_id: "aWQtMTczMzA0MDAwMA==", agent_id: "v1-agent-000000", req_configs: Object.entries(versions).map(([name, version]) => ({ name, version: version as never })),
}).finish();

function time(what: string, f: () => unknown): number {
  for (let i = 0; i < 20_000; i++) f(); // warm-up: let the JIT compile it
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f();
  const ns = Number(process.hrtime.bigint() - t) / N;
  console.log(`${what.padEnd(62)} ${ns.toFixed(0).padStart(6)} ns/call`);
  return ns;
}

console.log(`${N} calls each; bodies: alpha HeartBeat ${alphaBeat.length} B, v1 HeartBeat ${v1Beat.length} B, v1 FetchPipelineConfig ${legacyFetch.length} B`);
if (detectHeartBeat(alphaBeat) !== "alpha" || detectHeartBeat(v1Beat) !== "v1" || detectFetchPipelineConfig(legacyFetch) !== "v1") throw new Error("detection is wrong on the benchmark's bodies");
const a = time("detectHeartBeat(alpha HeartBeat, 3 tags)", () => detectHeartBeat(alphaBeat));
const ad = time("  protobufjs decode of the same (alpha HeartBeatRequest)", () => configserver.proto.HeartBeatRequest.decode(alphaBeat));
const b = time("detectHeartBeat(v1 HeartBeat, 3 tag values, 10 configs)", () => detectHeartBeat(v1Beat));
const bd = time("  protobufjs decode of the same (v1 HeartBeatRequest)", () => configserver.proto.v1.HeartBeatRequest.decode(v1Beat));
const c = time("detectFetchPipelineConfig(v1 fetch of 10 configs)", () => detectFetchPipelineConfig(legacyFetch));
const cd = time("  protobufjs decode of the same (v1 FetchPipelineConfigRequest)", () => configserver.proto.v1.FetchPipelineConfigRequest.decode(legacyFetch));
console.log(`detection ÷ decode: alpha HeartBeat ${(a / ad * 100).toFixed(0)} %, v1 HeartBeat ${(b / bd * 100).toFixed(0)} %, v1 fetch ${(c / cd * 100).toFixed(0)} %`);
