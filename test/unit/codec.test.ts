import test from "ava";
import { configserver } from "../../src/gen/proto.js";
import { decodeBody, encodeBody, encodeJsonInSlices } from "../../src/protocols/codec.ts";

const pb = configserver.proto;
const agents = Array.from({ length: 7 }, (_, i) => ({ agent_id: `a${i}`, agent_type: "t", ip: "", version: "1", running_status: "", startup_time: i, latest_heartbeat_time: 1700000000 + i, tags: { env: `e${i}` }, running_details: {} }));

test("a long list encoded in JSON slices is the same text as one encode", async (t) => {
  const head = { response_id: "r", code: "Accept", message: "Get agent list success" };
  let pauses = 0;
  const sliced = await encodeJsonInSlices(pb.ListAgentsResponse as never, head, "agents", agents, 3, async () => void pauses++);
  t.is(sliced.toString(), encodeBody(pb.ListAgentsResponse as never, { ...head, agents }, true).toString());
  t.is(pauses, 2);
  const empty = await encodeJsonInSlices(pb.ListAgentsResponse as never, head, "agents", [], 3, async () => undefined);
  t.is(empty.toString(), encodeBody(pb.ListAgentsResponse as never, { ...head, agents: [] }, true).toString());
});

test("concatenated protobuf slices decode as the whole list", (t) => {
  const head = encodeBody(pb.ListAgentsResponse as never, { response_id: "r", code: "Accept", message: "m" }, false);
  const parts = [head, encodeBody(pb.ListAgentsResponse as never, { agents: agents.slice(0, 4) }, false), encodeBody(pb.ListAgentsResponse as never, { agents: agents.slice(4) }, false)];
  const whole = decodeBody(pb.ListAgentsResponse as never, Buffer.concat(parts), false) as configserver.proto.ListAgentsResponse;
  t.deepEqual(whole.agents.map((a) => a.agent_id), agents.map((a) => a.agent_id));
  t.is(whole.response_id, "r");
});

test("JSON input is checked against the schema: types and unknown fields", (t) => {
  t.throws(() => decodeBody(pb.CreateConfigRequest as never, Buffer.from('{"config_detail":{"content":["x"]}}'), true), { message: /field config_detail\.content must be a string, got a list/ });
  t.throws(() => decodeBody(pb.AgentGetConfigListRequest as never, Buffer.from('{"config_versions":{"a":1.5}}'), true), { message: /config_versions\.a must be an integer/ });
  t.throws(() => decodeBody(pb.HeartBeatRequest as never, Buffer.from('{"agentId":"a","bogus":1}'), true), { message: /unknown field "bogus" in HeartBeatRequest/ });
  const ok = decodeBody(pb.AgentGetConfigListRequest as never, Buffer.from('{"agentId":"a","configVersions":{"x":"12","y":3}}'), true) as configserver.proto.AgentGetConfigListRequest;
  t.is(ok.agent_id, "a");
  t.is(String(ok.config_versions.x), "12");
});
