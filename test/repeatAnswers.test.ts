// A repeat (the same bytes as an agent's last request but for the request id, and v2's sequence
// number) is answered from memory (src/protocols/repeats.ts), its echoed id copied from the
// request's bytes (src/protocols/preEncoded.ts, fromWire) and its x-log-requestid decided in the same pass
// over them. Whatever path answers, the bytes must be what encoding the whole answer gives, for
// every kind of request id, on every protocol, the shared alpha/v1 path included.
import { rmSync } from "node:fs";
import test from "ava";
import { configserver } from "../src/gen/proto.js";
import { pb, send } from "./helpers/client.ts";
import { configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";
import { agentOf } from "./helpers/observe.ts";

const v1 = configserver.proto.v1;
const v2 = configserver.proto.v2;
/** A served commit whose one config goes to agents tagged env=prod (alpha, v2) or "prod" (v1). */
const repo = () => repoWith("cs-repeats-", { "configs/x.yaml": configYaml("x", "x0\n"), "agent_groups/g.yaml": groupYaml("g", ["x"], [["env", "prod"]]) }, "one config");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Request ids of every kind the echo and the header treat differently. */
const IDS: readonly [what: string, id: string][] = [
  ["ASCII", "r-0001"],
  ["non-ASCII UTF-8", "запрос-1 ✓"],
  ["a control character (not header text)", "r\u0001x"],
  ["tab (header text)", "r\tx"],
  // HTTP drops a header value's surrounding spaces and tabs: the client would read another id (issue 23's fuzz test).
  ["one space", " "],
  ["surrounding spaces", " r x "],
  ["a trailing tab", "r\t"],
  ["100 bytes", "a".repeat(100)],
  ["127 bytes (the longest one-byte length)", "b".repeat(127)],
  ["128 bytes (the longest header id)", "c".repeat(128)],
  ["200 bytes (no header id)", "d".repeat(200)],
  ["empty (no field 1)", ""],
];

/** The x-log-requestid the server gives `id` (src/protocols/requestId.ts, headerId): the id itself when it is short header text that HTTP does not trim. */
function expectedHeader(t: { is(a: unknown, b: unknown, m?: string): void; regex(a: string, r: RegExp, m?: string): void }, header: string | string[] | undefined, id: string, what: string): void {
  const text = id.length > 0 && id.length <= 128 && [...id].every((c) => c === "\t" || (c >= " " && c !== "\u007f" && c <= "\u00ff")) && !/^[ \t]|[ \t]$/.test(id);
  if (text) t.is(header, id, `${what}: x-log-requestid`);
  else t.regex(String(header), UUID, `${what}: x-log-requestid is a UUID`);
}

interface Case {
  readonly path: string;
  readonly body: (id: string) => Uint8Array;
  /** The answer to `id`, from the answer to the first request. */
  readonly expected: (id: string, first: Buffer) => Uint8Array;
}

const CASES: Record<string, (versions: Record<string, number>) => Case> = {
  "alpha HeartBeat": () => ({
    path: "/Agent/HeartBeat",
    body: (id) => pb.HeartBeatRequest.encode({ request_id: id, agent_id: "alpha-1", agent_version: "1.8.0", tags: { env: "prod" } }).finish(),
    expected: (id) => pb.HeartBeatResponse.encode({ response_id: id, code: "Accept", message: "Send heartbeat success" }).finish(),
  }),
  // Tagged so that nothing is applied: its heartbeat then says nothing changed (remembered).
  "v1 HeartBeat (on alpha's path)": () => ({
    path: "/Agent/HeartBeat",
    body: (id) => v1.HeartBeatRequest.encode({ request_id: id, agent_id: "v1-1", agent_type: "iLogtail", attributes: { version: "3.0.5", ip: "10.0.0.1" }, tags: ["staging"], interval: 10 }).finish(),
    expected: (id, first) => v1.HeartBeatResponse.encode({ ...v1.HeartBeatResponse.decode(first), request_id: id }).finish(),
  }),
  "alpha GetConfigList SAME": (versions) => ({
    path: "/Agent/GetConfigList",
    body: (id) => pb.AgentGetConfigListRequest.encode({ request_id: id, agent_id: "alpha-1", config_versions: versions as never }).finish(),
    expected: (id, first) => pb.AgentGetConfigListResponse.encode({ ...pb.AgentGetConfigListResponse.decode(first), response_id: id }).finish(),
  }),
};

for (const [name, make] of Object.entries(CASES)) {
  test(`${name}: a repeat's answer is byte for byte the encoded answer, for every kind of request id`, async (t) => {
    const dir = repo();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const s = await withServer(t, { repo: dir });
    // The alpha agent is known, and holds what is served.
    t.is((await send(s.url, "POST", "/Agent/HeartBeat", CASES["alpha HeartBeat"]!({}).body("hb"))).status, 200);
    const list = pb.AgentGetConfigListResponse.decode((await send(s.url, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ request_id: "l", agent_id: "alpha-1" }).finish())).body);
    const versions = Object.fromEntries(list.config_update_infos.map((i) => [i.config_name ?? "", Number(i.config_version)]));
    t.deepEqual(Object.keys(versions), ["x"]);
    const c = make(versions);
    const first = await send(s.url, "POST", c.path, c.body("first"));
    t.is(first.status, 200, "first");
    // Twice each: the second is a repeat of the first (the same bytes but the id's).
    for (const [what, id] of IDS) {
      for (const round of [1, 2]) {
        const r = await send(s.url, "POST", c.path, c.body(id));
        t.is(r.status, 200, `${what} (${round})`);
        t.true(Buffer.from(c.expected(id, first.body)).equals(r.body), `${what} (${round}): the encoded answer`);
        expectedHeader(t, r.headers["x-log-requestid"], id, `${what} (${round})`);
      }
    }
    if (name.startsWith("v1")) t.is((await agentOf(s.url, "v1-1"))?.protocol, "v1", "the v1 agent stayed v1 on the shared path");
  });
}

test("v2 Heartbeat: a repeat's answer echoes its bytes request id byte for byte, whatever the bytes", async (t) => {
  const dir = repo();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await withServer(t, { repo: dir });
  let seq = 1;
  const beat = (id: Uint8Array) =>
    v2.HeartbeatRequest.encode({ request_id: id, sequence_num: seq++ as never, capabilities: 3 as never, instance_id: Buffer.from("v2-1"), agent_type: "LoongCollector", attributes: { version: Buffer.from("3.0.5") }, tags: [{ name: "env", value: "prod" }], running_status: "running", startup_time: 1_700_000_000 as never }).finish();
  // The first beats: a new agent is asked for its full state, then known.
  for (const id of ["b1", "b2"]) t.is((await send(s.url, "POST", "/Agent/Heartbeat", beat(Buffer.from(id)))).status, 200);
  const reference = v2.HeartbeatResponse.decode((await send(s.url, "POST", "/Agent/Heartbeat", beat(Buffer.from("b3")))).body);
  const ids: [string, Buffer][] = [
    ["ASCII", Buffer.from("hb-0001")],
    ["bytes over 0x7f and a NUL", Buffer.from([0xff, 0x00, 0x80, 0x41])],
    ["one space", Buffer.from(" ")],
    ["a leading tab", Buffer.from("\tid")],
    ["120 bytes", Buffer.alloc(120, 0x61)],
    ["200 bytes", Buffer.alloc(200, 0x62)],
    ["empty", Buffer.alloc(0)],
  ];
  for (const [what, id] of ids) {
    for (const round of [1, 2]) {
      const r = await send(s.url, "POST", "/Agent/Heartbeat", beat(id));
      t.is(r.status, 200, `${what} (${round})`);
      t.true(Buffer.from(v2.HeartbeatResponse.encode({ ...reference, request_id: id }).finish()).equals(r.body), `${what} (${round}): the encoded answer`);
      expectedHeader(t, r.headers["x-log-requestid"], id.toString("latin1"), `${what} (${round})`);
    }
  }
});

test("alpha and v1 repeats alternating on their shared path are each answered in their own protocol", async (t) => {
  const dir = repo();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = await withServer(t, { repo: dir });
  const alpha = CASES["alpha HeartBeat"]!({});
  const legacy = CASES["v1 HeartBeat (on alpha's path)"]!({});
  const firstV1 = await send(s.url, "POST", legacy.path, legacy.body("v1-first"));
  t.is((await send(s.url, "POST", alpha.path, alpha.body("a-first"))).status, 200);
  for (let i = 0; i < 4; i++) {
    for (const [c, first, name] of [[alpha, undefined, "alpha"], [legacy, firstV1.body, "v1"]] as const) {
      const id = `${name}-${i}`;
      const r = await send(s.url, "POST", c.path, c.body(id));
      t.true(Buffer.from(c.expected(id, first as Buffer)).equals(r.body), `${id}: its own protocol's answer`);
    }
  }
  t.is((await agentOf(s.url, "v1-1"))?.protocol, "v1");
  t.is((await agentOf(s.url, "alpha-1"))?.protocol, "alpha");
});
