// Cacheable replies (src/protocols/answerCache.ts) are encoded once and the request id put in
// front per request (src/protocols/preEncoded.ts): the bytes must be what encoding the whole answer gives, for every protocol.
import type { IncomingMessage } from "node:http";
import test from "ava";
import { configserver } from "../../src/gen/proto.js";
import type { Outcome } from "../../src/http/endpoint.ts";
import { cacheable, type CacheableReply } from "../../src/protocols/answerCache.ts";
import type { MessageType } from "../../src/protocols/codec.ts";
import { compileRoute } from "../../src/protocols/compileRoute.ts";
import type { Envelope, Replied, Reply } from "../../src/protocols/routeContract.ts";
import { ALPHA_ENVELOPE } from "../../src/protocols/alpha/envelope.ts";
import { V1_ENVELOPE } from "../../src/protocols/v1/envelope.ts";
import { V2_ENVELOPE } from "../../src/protocols/v2/envelope.ts";

const pb = configserver.proto;
const req = { url: "/x", headers: {} } as IncomingMessage;
const options = { bodyLimit: 1 << 20, onError: () => {} };

interface Case {
  readonly name: string;
  readonly envelope: Envelope;
  readonly request: MessageType<unknown>;
  readonly response: MessageType<unknown>;
  readonly reply: Reply;
  readonly ids: readonly unknown[];
  /** A request body with this id. */
  readonly body: (id: unknown) => Uint8Array;
}

const text = ["", "hb-agent-000001", "é-non-ascii", "x".repeat(127), "y".repeat(128), "\u0000\u007f"];
const bytes = [new Uint8Array(0), Buffer.from("hb-1"), Buffer.from([0, 255, 128]), Buffer.alloc(127, 1), Buffer.alloc(200, 2)];
const cases: Case[] = [
  {
    name: "alpha HeartBeat", envelope: ALPHA_ENVELOPE, request: pb.HeartBeatRequest as never, response: pb.HeartBeatResponse as never,
    reply: { message: "Send heartbeat success" }, ids: text, body: (id) => pb.HeartBeatRequest.encode({ request_id: id as string, agent_id: "a" }).finish(),
  },
  {
    name: "alpha GetConfigList", envelope: ALPHA_ENVELOPE, request: pb.AgentGetConfigListRequest as never, response: pb.AgentGetConfigListResponse as never,
    reply: { message: "m", config_update_infos: [{ config_name: "c", update_status: 1, config_version: 3, content: "x: 1" }, { config_name: "d", update_status: 0 }] },
    ids: text, body: (id) => pb.AgentGetConfigListRequest.encode({ request_id: id as string, agent_id: "a" }).finish(),
  },
  {
    name: "v1 HeartBeat", envelope: V1_ENVELOPE, request: pb.v1.HeartBeatRequest as never, response: pb.v1.HeartBeatResponse as never,
    reply: { message: "Send heartbeat success", pipeline_check_results: [], agent_check_results: [] }, ids: text,
    body: (id) => pb.v1.HeartBeatRequest.encode({ request_id: id as string, agent_id: "a" }).finish(),
  },
  {
    name: "v2 Heartbeat", envelope: V2_ENVELOPE, request: pb.v2.HeartbeatRequest as never, response: pb.v2.HeartbeatResponse as never,
    reply: { capabilities: 7, continuous_pipeline_config_updates: [{ name: "c", version: 2, detail: Buffer.from("{}") }], flags: 1 }, ids: bytes,
    body: (id) => pb.v2.HeartbeatRequest.encode({ request_id: id as Uint8Array, instance_id: Buffer.from("a") }).finish(),
  },
];

for (const c of cases) {
  test(`a cacheable reply's answer is byte for byte the whole encoding: ${c.name}`, (t) => {
    const frozen: CacheableReply = cacheable({ ...c.reply });
    const r = c.response;
    let encodes = 0;
    const counted: MessageType<unknown> = { decode: (b) => r.decode(b), encode: (m) => (encodes++, r.encode(m)), fromObject: (o) => r.fromObject(o), toObject: (m, o) => r.toObject(m, o), getTypeUrl: (p) => r.getTypeUrl(p) };
    const route = (reply: Replied, response = c.response) => compileRoute({ method: "POST", path: "/x", request: c.request as never, response, envelope: c.envelope, handle: () => reply }, options);
    const cached = route(frozen, counted);
    const plain = route({ ...c.reply });
    for (const id of c.ids) {
      const body = Buffer.from(c.body(id));
      const a = cached.answer(req, body, undefined, undefined) as Outcome;
      const b = plain.answer(req, body, undefined, undefined) as Outcome;
      t.is(a.body.toString("hex"), b.body.toString("hex"), `id ${JSON.stringify(id)}`);
      t.is(a.status, 200);
    }
    // Encoded once (with an empty id and a probe id), then only the id is written per request;
    // ids it cannot put in front (over 127 bytes, non-ASCII text) are encoded whole.
    const whole = c.ids.filter((id) => (typeof id === "string" ? id.length > 127 || Buffer.byteLength(id) !== id.length : (id as Uint8Array).length > 127)).length;
    t.is(encodes, 2 + whole);
    // Asked twice: the first answer's bytes were not shared with (or changed by) the second.
    const first = cached.answer(req, Buffer.from(c.body(c.ids[1])), undefined, undefined) as Outcome;
    const copy = Buffer.from(first.body);
    cached.answer(req, Buffer.from(c.body(c.ids[2])), undefined, undefined);
    t.deepEqual(first.body, copy);
  });
}

test("JSON answers of a cacheable reply are encoded as JSON", (t) => {
  const route = compileRoute({ method: "POST", path: "/x", request: pb.HeartBeatRequest as never, response: pb.HeartBeatResponse as never, envelope: ALPHA_ENVELOPE, handle: () => cacheable({ message: "ok" }) }, options);
  const o = route.answer(req, Buffer.from('{"requestId":"r1","agentId":"a"}'), "application/json", undefined) as Outcome;
  t.deepEqual(JSON.parse(o.body.toString()), { responseId: "r1", code: "Accept", message: "ok" });
});

test("freezing a reply does not make it cacheable: a frozen, undeclared reply is encoded per request", (t) => {
  const r = pb.HeartBeatResponse;
  let encodes = 0;
  const counted: MessageType<unknown> = { decode: (b) => r.decode(b), encode: (m) => (encodes++, r.encode(m)), fromObject: (o) => r.fromObject(o), toObject: (m, o) => r.toObject(m as never, o), getTypeUrl: (p) => r.getTypeUrl(p) };
  const frozen: Reply = Object.freeze({ message: "ok" });
  const route = compileRoute({ method: "POST", path: "/x", request: pb.HeartBeatRequest, response: counted, envelope: ALPHA_ENVELOPE, handle: () => frozen }, options);
  for (const id of ["r1", "r2", "r3"]) route.answer(req, Buffer.from(pb.HeartBeatRequest.encode({ request_id: id, agent_id: "a" }).finish()), undefined, undefined);
  t.is(encodes, 3);
});
