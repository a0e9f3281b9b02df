// The `/Agent/*` shortcut (src/http/agentListener.ts) serves exact agent URLs below koa; every
// other spelling reaches the same route through koa. Both must answer and count alike.
import { request } from "node:http";
import { Writable } from "node:stream";
import test from "ava";
import pino from "pino";
import { pb, send } from "./helpers/client.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { agentCount, remembered } from "./helpers/observe.ts";

const heartbeat = (id: string) => pb.HeartBeatRequest.encode({ request_id: `r-${id}`, agent_id: id, tags: { k: "v" } }).finish();

const count = async (url: string, key: string) => {
  const text = (await send(url, "GET", "/metrics", "")).body.toString();
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.slice(key.length + 1));
};

test("every spelling of an agent path gets the same answer, counted under the route's path", async (t) => {
  const s = await withServer(t);
  const key = 'configserver_http_requests_total{route="/Agent/HeartBeat",code="Accept",protocol="alpha"}';
  const before = await count(s.url, key);
  // Exact (the shortcut), trailing slash (the shortcut), with a query (koa's router).
  const paths = ["/Agent/HeartBeat", "/Agent/HeartBeat/", "/Agent/HeartBeat?x=1"];
  for (const [i, path] of paths.entries()) {
    const r = await send(s.url, "POST", path, heartbeat(`a${i}`));
    t.is(r.status, 200, path);
    t.is(r.headers["content-type"], "application/x-protobuf", path);
    t.is(r.headers["x-log-requestid"], `r-a${i}`, path);
    t.deepEqual(pb.HeartBeatResponse.toObject(pb.HeartBeatResponse.decode(r.body)), { response_id: `r-a${i}`, code: "Accept", message: "Send heartbeat success" }, path);
  }
  t.is(await count(s.url, key), before + paths.length);
  t.deepEqual(await remembered(s.url, ["a0", "a1", "a2"]), ["a0", "a1", "a2"]);
  t.is(await agentCount(s.url), paths.length);
});

test("agent paths match exactly: another case is not the same route, on either listener", async (t) => {
  const s = await withServer(t);
  for (const path of ["/agent/heartbeat", "/AGENT/HEARTBEAT", "/Agent/heartbeat", "/agent/HeartBeat?x=1"]) {
    const r = await send(s.url, "POST", path, heartbeat("x"));
    t.is(r.status, 404, path);
  }
  t.deepEqual(await remembered(s.url, ["x"]), []);
  t.is(await agentCount(s.url), 0);
});

test("a wrong method on an agent path falls through to koa: 405 with Allow", async (t) => {
  const s = await withServer(t);
  for (const method of ["GET", "PUT", "DELETE"]) {
    const r = await send(s.url, method, "/Agent/GetConfigList", "");
    t.is(r.status, 405, method);
    t.is(r.headers.allow, "POST", method);
    t.truthy(r.headers["x-log-requestid"], method);
  }
});

test("an agent body over the limit is 413 with a protobuf BadRequest; the server keeps serving", async (t) => {
  const s = await withServer(t, { agentBodyLimit: 256 });
  const big = pb.HeartBeatRequest.encode({ request_id: "big", agent_id: "a", ip: "x".repeat(1024) }).finish();
  const r = await send(s.url, "POST", "/Agent/HeartBeat", big);
  t.is(r.status, 413);
  t.is(r.headers["content-type"], "application/x-protobuf");
  t.truthy(r.headers["x-log-requestid"]);
  t.deepEqual([pb.HeartBeatResponse.decode(r.body).code, pb.HeartBeatResponse.decode(r.body).message], ["BadRequest", "Request body is larger than the limit of 256 bytes."]);
  t.is(await count(s.url, 'configserver_http_requests_total{route="/Agent/HeartBeat",code="BadRequest",protocol="alpha"}'), 1);
  t.is((await s.api.heartbeat({ agent_id: "after" })).body.code, "Accept");
});

test("agent requests log one debug line with route, status, code and request id", async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  const s = await withServer(t, { logger: pino({ level: "debug" }, sink) });
  await send(s.url, "POST", "/Agent/HeartBeat/", heartbeat("a1"));
  await send(s.url, "POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest.encode({ request_id: "g1", agent_id: "ghost" }).finish());
  const requests = lines.filter((l) => l.msg === "request");
  t.like(requests[0], { level: 20, requestId: "r-a1", method: "POST", path: "/Agent/HeartBeat/", route: "/Agent/HeartBeat", status: 200, code: "Accept" });
  t.like(requests[1], { level: 20, requestId: "g1", route: "/Agent/GetConfigList", status: 404, code: "AgentNotExist", message: "Agent ghost doesn't exist." });
  t.is(typeof requests[0]?.ms, "number");
});

test("an agent request in flight when shutdown begins is answered with Connection: close", async (t) => {
  const s = await withServer(t);
  const body = heartbeat("late");
  const res = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    const req = request(`${s.url}/Agent/HeartBeat`, { method: "POST", headers: { "content-length": String(body.length) } }, (r) => {
      r.resume();
      r.on("end", () => resolve({ status: r.statusCode ?? 0, connection: r.headers.connection }));
    });
    req.on("error", reject);
    // Half the body, then shutdown, then the rest: the request is in flight when close() begins.
    // Client and server share this event loop: a poll phase (the server reading the headers)
    // always runs between a timer and the next setImmediate.
    req.write(body.subarray(0, 5), () => setTimeout(() => setImmediate(() => {
      void s.close();
      req.end(body.subarray(5));
    }), 20));
  });
  t.is(res.status, 200);
  t.is(res.connection, "close");
});

test("a request aborted mid-body is counted BadRequest alike on both listeners; nothing is stored, the server keeps serving", async (t) => {
  const s = await withServer(t);
  const key = 'configserver_http_requests_total{route="/Agent/HeartBeat",code="BadRequest",protocol="alpha"}';
  const body = heartbeat("torn");
  for (const [i, path] of ["/Agent/HeartBeat", "/Agent/HeartBeat?x=1"].entries()) {
    const req = request(`${s.url}${path}`, { method: "POST", headers: { "content-length": String(body.length) } });
    req.on("error", () => {});
    // Half the body, then the client goes away.
    req.write(body.subarray(0, 5), () => setTimeout(() => req.destroy(), 20));
    await waitFor(async () => (await count(s.url, key)) >= i + 1);
    t.is(await count(s.url, key), i + 1, path);
  }
  t.deepEqual(await remembered(s.url, ["torn"]), []);
  t.is(await agentCount(s.url), 0);
  t.is((await s.api.heartbeat({ agent_id: "after" })).body.code, "Accept");
});

test("an agent body over the limit by its Content-Length is refused before it is read, on both listeners alike", async (t) => {
  const s = await withServer(t, { agentBodyLimit: 64 });
  const big = pb.HeartBeatRequest.encode({ request_id: "big", agent_id: "a", ip: "x".repeat(200) }).finish();
  for (const path of ["/Agent/HeartBeat", "/Agent/HeartBeat?x=1"]) {
    const r = await send(s.url, "POST", path, big);
    t.is(r.status, 413, path);
    t.is(pb.HeartBeatResponse.decode(r.body).message, "Request body is larger than the limit of 64 bytes.", path);
  }
  t.deepEqual(await remembered(s.url, ["a"]), []);
  t.is(await agentCount(s.url), 0);
});
