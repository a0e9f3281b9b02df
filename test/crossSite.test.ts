// Issue 23 item 7: what a web page in an operator's browser can send (a "simple" request: text/plain
// or a form, any Origin; or a rebound DNS name as Host) must not change or read anything.
import test from "ava";
import { pb, send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { withServer, type TestServer } from "./helpers/server.ts";

const FOREIGN = "http://evil.example";
const headCount = (s: TestServer) => Number(git(s.repo, "rev-list", "--count", "HEAD").trim());
const json = { "content-type": "application/json" };

async function withVictim(t: Parameters<typeof withServer>[0], options: Parameters<typeof withServer>[1] = {}): Promise<TestServer> {
  const s = await withServer(t, options);
  const made = await send(s.url, "POST", "/User/CreateConfig", JSON.stringify({ configDetail: { configName: "victim", agentType: "ilogtail", content: "enable: true\n" } }), json);
  t.is(made.status, 200, made.body.toString());
  return s;
}

test("DeleteConfig as text/plain with a foreign Origin is refused and commits nothing", async (t) => {
  const s = await withVictim(t);
  const before = headCount(s);
  const r = await send(s.url, "POST", "/User/DeleteConfig?config_name=victim", "", { "content-type": "text/plain", origin: FOREIGN });
  t.is(r.status, 403);
  const answer = pb.DeleteConfigResponse.decode(r.body);
  t.is(answer.code, "Forbidden");
  t.regex(answer.message, /Origin "http:\/\/evil\.example"/);
  t.is(headCount(s), before, "no commit");
  t.is((await s.api.getConfig({ config_name: "victim" })).body.code, "Accept");
});

test("a text/plain or form body on a User API route is 415 BadRequest in the route's envelope, saying to send JSON", async (t) => {
  const s = await withVictim(t);
  const before = headCount(s);
  for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
    const r = await send(s.url, "POST", "/User/DeleteConfig?config_name=victim", "", { "content-type": type });
    t.is(r.status, 415, type);
    t.is(r.headers["content-type"], "application/x-protobuf");
    const answer = pb.DeleteConfigResponse.decode(r.body);
    t.is(answer.code, "BadRequest", type);
    t.regex(answer.message, /Content-Type: application\/json/, type);
  }
  // A protobuf CreateConfig sent as text/plain (what a page can send without asking first).
  const create = pb.CreateConfigRequest.encode({ config_detail: { config_name: "planted", content: "enable: true\n" } }).finish();
  const r = await send(s.url, "POST", "/User/CreateConfig", create, { "content-type": "text/plain" });
  t.is(r.status, 415);
  t.is(pb.CreateConfigResponse.decode(r.body).code, "BadRequest");
  t.is(headCount(s), before, "no commit");
  t.is((await s.api.getConfig({ config_name: "planted" })).body.code, "ConfigNotExist");
  t.is((await s.api.getConfig({ config_name: "victim" })).body.code, "Accept");
});

test("what reference clients send still works: protobuf with no Content-Type, or application/x-protobuf; JSON with application/json", async (t) => {
  const s = await withVictim(t);
  const create = (name: string) => pb.CreateConfigRequest.encode({ config_detail: { config_name: name, content: "enable: true\n" } }).finish();
  t.is(pb.CreateConfigResponse.decode((await send(s.url, "POST", "/User/CreateConfig", create("a"))).body).code, "Accept");
  t.is(pb.CreateConfigResponse.decode((await send(s.url, "POST", "/User/CreateConfig", create("b"), { "content-type": "application/x-protobuf" })).body).code, "Accept");
  // A browser's same-origin request (the console) carries its own origin.
  const same = await send(s.url, "POST", "/User/DeleteConfig", JSON.stringify({ configName: "a" }), { ...json, origin: s.url });
  t.is(same.status, 200, same.body.toString());
  // Reads with no Content-Type, GET or POST.
  t.is((await send(s.url, "GET", "/User/ListConfigs", pb.ListConfigsRequest.encode({}).finish())).status, 200);
  t.is((await send(s.url, "POST", "/User/GetConfig", pb.GetConfigRequest.encode({ config_name: "b" }).finish())).status, 200);
});

test("rollback with a text/plain JSON body is refused with a hint, and commits nothing", async (t) => {
  const s = await withVictim(t);
  t.is((await send(s.url, "POST", "/User/UpdateConfig", JSON.stringify({ configDetail: { configName: "victim", content: "enable: false\n" } }), json)).status, 200);
  const before = headCount(s);
  const r = await send(s.url, "POST", "/api/v1/configs/victim/rollback", JSON.stringify({ version: 1 }), { "content-type": "text/plain" });
  t.is(r.status, 415);
  const body = JSON.parse(r.body.toString()) as { code: string; message: string };
  t.is(body.code, "BadRequest");
  t.regex(body.message, /Content-Type: application\/json/);
  // No Content-Type at all is not JSON either.
  t.is((await send(s.url, "POST", "/api/v1/configs/victim/rollback", JSON.stringify({ version: 1 }))).status, 415);
  t.is((await send(s.url, "PUT", "/api/v1/groups/default", JSON.stringify({ configs: [] }), { "content-type": "text/plain" })).status, 415);
  t.is(headCount(s), before, "no commit");
  // The same rollback as JSON from a foreign page: refused by its Origin.
  const foreign = await send(s.url, "POST", "/api/v1/configs/victim/rollback", JSON.stringify({ version: 1 }), { ...json, origin: FOREIGN });
  t.is(foreign.status, 403);
  t.is(headCount(s), before, "no commit");
  const ok = await send(s.url, "POST", "/api/v1/configs/victim/rollback", JSON.stringify({ version: 1 }), json);
  t.is(ok.status, 200, ok.body.toString());
  t.is(headCount(s), before + 1);
});

test("a Host the server does not serve (DNS rebinding) is refused for reads and writes; --allowed-hosts adds names, * allows any", async (t) => {
  const s = await withVictim(t);
  const before = headCount(s);
  const port = new URL(s.url).port;
  const evil = { host: `rebound.evil.example:${port}` };
  const list = await send(s.url, "GET", "/User/ListConfigs", "", evil);
  t.is(list.status, 403);
  t.regex(pb.ListConfigsResponse.decode(list.body).message, /Host "rebound\.evil\.example:\d+".*--allowed-hosts/);
  for (const path of ["/api/v1/configs", "/status", "/api/v1/configs/victim", "/ui/"]) t.is((await send(s.url, "GET", path, "", evil)).status, 403, path);
  const del = await send(s.url, "POST", "/User/DeleteConfig", JSON.stringify({ configName: "victim" }), { ...json, ...evil });
  t.is(del.status, 403);
  t.is(headCount(s), before, "no commit");
  // Loopback names and addresses are served.
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "localhost"]) t.is((await send(s.url, "GET", "/api/v1/configs", "", { host })).status, 200, host);
  // Probes, metrics and agents are not browsers' business: any Host.
  for (const path of ["/healthz", "/metrics"]) t.is((await send(s.url, "GET", path, "", evil)).status, 200, path);
  const hb = await send(s.url, "POST", "/Agent/HeartBeat", pb.HeartBeatRequest.encode({ agent_id: "a1" }).finish(), evil);
  t.is(pb.HeartBeatResponse.decode(hb.body).code, "Accept");

  const named = await withServer(t, { allowedHosts: ["configs.example.com", "*.lb.example.com"] });
  t.is((await send(named.url, "GET", "/api/v1/configs", "", { host: "configs.example.com" })).status, 200);
  t.is((await send(named.url, "GET", "/api/v1/configs", "", { host: "eu.lb.example.com:443" })).status, 200);
  t.is((await send(named.url, "GET", "/api/v1/configs", "", { host: "configs.example.com.evil.example" })).status, 403);
  // Behind a proxy that keeps the public name, the console's Origin is that name.
  t.is((await send(named.url, "PUT", "/api/v1/groups/default", JSON.stringify({ configs: [] }), { ...json, host: "configs.example.com", origin: "https://configs.example.com" })).status, 200);
  const any = await withServer(t, { allowedHosts: ["*"] });
  t.is((await send(any.url, "GET", "/api/v1/configs", "", evil)).status, 200);
  t.is((await send(any.url, "PUT", "/api/v1/groups/default", JSON.stringify({ configs: [] }), { ...json, ...evil, origin: FOREIGN })).status, 403, "* is about Host, not Origin");
});

test("every answer outside the agent routes says X-Content-Type-Options: nosniff", async (t) => {
  const s = await withServer(t);
  for (const [method, path] of [["GET", "/User/ListConfigs"], ["GET", "/api/v1/configs"], ["GET", "/status"], ["GET", "/ui/"], ["GET", "/healthz"], ["GET", "/metrics"], ["GET", "/nothing-here"], ["POST", "/User/CreateConfig"]] as const) {
    const r = await send(s.url, method, path, "", method === "POST" ? { "content-type": "text/plain" } : {});
    t.is(r.headers["x-content-type-options"], "nosniff", `${method} ${path}`);
  }
});
