import { existsSync, readdirSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import test from "ava";
import { pb, ROUTES, send, type Raw } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";
import { agentCount, remembered } from "./helpers/observe.ts";

type Head = { response_id: string; code: string; message: string };

/** Every path under `dir` except .git, sorted: what a bad request must not change. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === ".git" && d === dir) continue;
      const full = join(d, e.name);
      out.push(relative(dir, full) + (e.isDirectory() ? "/" : ""));
      if (e.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

test("an undecodable protobuf body is a 400 BadRequest on every route", async (t) => {
  const s = await withServer(t);
  const garbage = [
    Buffer.from([0x0a, 0x05, 0x61]), // field 1, length 5, one byte present
    Buffer.from([0x0f]), // wire type 7 does not exist
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // endless varint
  ];
  for (const route of ROUTES) {
    for (const body of garbage) {
      const raw = await send(s.url, route.method, route.path, body);
      const label = `${route.path} ${body.toString("hex")}`;
      t.is(raw.status, 400, label);
      t.is(raw.headers["content-type"], "application/x-protobuf", label);
      t.truthy(raw.headers["x-log-requestid"], label);
      const decoded = route.res.decode(raw.body) as unknown as Head;
      t.is(decoded.code, "BadRequest", label);
      t.is(decoded.response_id, "", label);
    }
  }
  t.is(readdirSync(s.repo).join(), ".git");
});

test("a bad JSON body is a 400 BadRequest answered in JSON", async (t) => {
  const s = await withServer(t);
  const bodies = ["{", "[]", "42", '"text"', '{"configDetail": "not a message"}', '{"config_detail": {"config_name": ["a"]}}'];
  for (const body of bodies) {
    const raw = await send(s.url, "POST", "/User/CreateConfig", body, { "content-type": "application/json" });
    t.is(raw.status, 400, body);
    t.regex(String(raw.headers["content-type"]), /^application\/json/, body);
    t.truthy(raw.headers["x-log-requestid"], body);
    t.is((JSON.parse(raw.body.toString()) as { code: string }).code, "BadRequest", body);
  }
  t.is(readdirSync(s.repo).join(), ".git");
});

const RULE = "a name must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ (start with a letter or digit; then letters, digits, '.', '_' or '-'; at most 128 characters).";
const escape = `cs-escape-${process.pid}-${Date.now()}`;
const badNames = ["../x", "a/b", ".x", "x".repeat(200), "x".repeat(129), "-x", "_x", "a b", "a\\b", "ä", "x\n", `../../${escape}`, "/abs", "..", "."];

test("bad names are 400 InvalidParameter naming the rule, and leave no file anywhere", async (t) => {
  const s = await withServer(t);
  const { api } = s;
  await api.createConfig({ config_detail: { config_name: "ok", content: "x" } });
  await api.createGroup({ agent_group: { group_name: "okg" } });
  const head = git(s.repo, "rev-parse", "HEAD");
  const before = files(s.repo);

  for (const name of badNames) {
    const config = `Invalid config name ${JSON.stringify(name)}: ${RULE}`;
    const group = `Invalid agent group name ${JSON.stringify(name)}: ${RULE}`;
    const cases: [string, Promise<{ status: number; body: Head }>, string][] = [
      ["CreateConfig", api.createConfig({ config_detail: { config_name: name, content: "x" } }) as never, config],
      ["UpdateConfig", api.updateConfig({ config_detail: { config_name: name, content: "x" } }) as never, config],
      ["DeleteConfig", api.deleteConfig({ config_name: name }) as never, config],
      ["GetConfig", api.getConfig({ config_name: name }) as never, config],
      ["GetAppliedAgentGroups", api.appliedGroups({ config_name: name }) as never, config],
      ["CreateAgentGroup", api.createGroup({ agent_group: { group_name: name } }) as never, group],
      ["UpdateAgentGroup", api.updateGroup({ agent_group: { group_name: name } }) as never, group],
      ["DeleteAgentGroup", api.deleteGroup({ group_name: name }) as never, group],
      ["GetAgentGroup", api.getGroup({ group_name: name }) as never, group],
      ["GetAppliedConfigsForAgentGroup", api.appliedConfigs({ group_name: name }) as never, group],
      ["ListAgents", api.listAgents({ group_name: name }) as never, group],
      ["Apply (bad group)", api.apply({ group_name: name, config_name: "ok" }) as never, group],
      ["Apply (bad config)", api.apply({ group_name: "okg", config_name: name }) as never, config],
      ["Remove (bad group)", api.remove({ group_name: name, config_name: "ok" }) as never, group],
      ["Remove (bad config)", api.remove({ group_name: "okg", config_name: name }) as never, config],
    ];
    for (const [label, call, message] of cases) {
      const res = await call;
      t.deepEqual([res.status, res.body.code, res.body.message], [400, "InvalidParameter", message], `${label} ${JSON.stringify(name)}`);
    }
  }
  // The protocol's parameter checks (src/domain/userOps.ts) still come first.
  const noContent = await api.createConfig({ config_detail: { config_name: "../x" } });
  t.deepEqual([noContent.status, noContent.body.code, noContent.body.message], [400, "BadRequest", "Need parameter Content."]);

  t.is(git(s.repo, "rev-parse", "HEAD"), head);
  t.is(git(s.repo, "status", "--porcelain", "--untracked-files=all", "--ignored"), "");
  t.deepEqual(files(s.repo), before);
  t.false(existsSync(join(s.repo, "x.yaml")));
  t.false(existsSync(join(tmpdir(), `${escape}.yaml`)));
  t.deepEqual((await api.listConfigs()).body.config_details.map((c) => c.config_name), ["ok"]);
  t.deepEqual((await api.listGroups()).body.agent_groups.map((g) => g.group_name), ["default", "okg"]);
});

test("names at the edge of the rule are accepted", async (t) => {
  const { api } = await withServer(t);
  for (const name of ["x".repeat(128), "0", "A.b_c-d", "a..b", "config.yaml", "Z-"]) {
    t.is((await api.createConfig({ config_detail: { config_name: name, content: "x" } })).body.code, "Accept", name);
    t.is((await api.createGroup({ agent_group: { group_name: name } })).body.code, "Accept", name);
    t.is((await api.apply({ group_name: name, config_name: name })).body.code, "Accept", name);
    t.deepEqual((await api.appliedConfigs({ group_name: name })).body.config_names, [name]);
  }
});

/** A chunked request (no content-length), so the limit is found while reading. */
function sendChunked(url: string, path: string, chunks: Buffer[]): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: "POST", headers: { "transfer-encoding": "chunked" } }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    // The server may answer before it has read everything: a reset while writing is not a failure.
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

test("a body over the limit is a 413 and the server keeps serving", async (t) => {
  const limit = 1024;
  const s = await withServer(t, { bodyLimit: limit, agentBodyLimit: limit });
  const message = `Request body is larger than the limit of ${limit} bytes.`;
  const big = pb.CreateConfigRequest.encode({ request_id: "big", config_detail: { config_name: "big", content: "x".repeat(4 * limit) } }).finish();

  const raw = await send(s.url, "POST", "/User/CreateConfig", big);
  t.is(raw.status, 413);
  t.is(raw.headers["content-type"], "application/x-protobuf");
  t.truthy(raw.headers["x-log-requestid"]);
  const decoded = pb.CreateConfigResponse.decode(raw.body);
  t.deepEqual([decoded.code, decoded.message], ["BadRequest", message]);

  const chunked = await sendChunked(s.url, "/User/CreateConfig", [Buffer.from(big.subarray(0, 600)), Buffer.from(big.subarray(600))]);
  t.is(chunked.status, 413);
  t.is(pb.CreateConfigResponse.decode(chunked.body).code, "BadRequest");

  const getBig = await send(s.url, "GET", "/User/ListConfigs", Buffer.alloc(limit + 1));
  t.is(getBig.status, 413);
  const jsonBig = await send(s.url, "POST", "/Agent/HeartBeat", JSON.stringify({ agentId: "a", ip: "x".repeat(limit) }), { "content-type": "application/json" });
  t.is(jsonBig.status, 413);

  // Nothing was written, and requests within the limit are served as usual.
  t.is(readdirSync(s.repo).join(), ".git");
  const fits = pb.CreateConfigRequest.encode({ config_detail: { config_name: "fits", content: "x".repeat(limit - 100) } }).finish();
  t.true(fits.length <= limit);
  t.is((await send(s.url, "POST", "/User/CreateConfig", fits)).status, 200);
  t.deepEqual((await s.api.listConfigs()).body.config_details.map((c) => c.config_name), ["fits"]);
  t.is((await s.api.heartbeat({ agent_id: "after" })).body.code, "Accept");
});

test("unknown routes and methods still carry x-log-requestid", async (t) => {
  const s = await withServer(t);
  const notFound = await send(s.url, "POST", "/User/NoSuchRoute", "");
  t.is(notFound.status, 404);
  t.truthy(notFound.headers["x-log-requestid"]);
  const wrongMethod = await send(s.url, "GET", "/User/CreateConfig", "");
  t.is(wrongMethod.status, 405);
  t.truthy(wrongMethod.headers["x-log-requestid"]);
});

test("a request_id that cannot be a header value is echoed in the body; x-log-requestid is a new id", async (t) => {
  const s = await withServer(t);
  for (const id of ["日本", "a\nb"]) {
    // The shortcut below koa, and the same route through koa's router.
    for (const path of ["/Agent/HeartBeat", "/Agent/HeartBeat?q=1"]) {
      const raw = await send(s.url, "POST", path, pb.HeartBeatRequest.encode({ request_id: id, agent_id: "a1" }).finish());
      t.is(raw.status, 200, path);
      t.regex(String(raw.headers["x-log-requestid"]), /^[0-9a-f-]{36}$/, path);
      t.is(pb.HeartBeatResponse.decode(raw.body).response_id, id, path);
    }
    const user = await send(s.url, "POST", "/User/ListConfigs", pb.ListConfigsRequest.encode({ request_id: id }).finish());
    t.is(user.status, 200);
    t.is(pb.ListConfigsResponse.decode(user.body).response_id, id);
  }
  t.is((await s.api.heartbeat({ agent_id: "after" })).body.code, "Accept");
});

test("JSON bodies with a wrong type or an unknown field are 400 naming the field; nothing is committed", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: { config_name: "base", content: "x" } });
  const head = git(s.repo, "rev-parse", "HEAD").trim();
  const cases: [string, string, unknown, RegExp][] = [
    ["POST", "/User/CreateConfig", { config_detail: { config_name: "a", content: { a: 1 } } }, /field config_detail\.content must be a string, got an object/],
    ["POST", "/User/CreateConfig", { config_detail: { config_name: "a", content: true } }, /field config_detail\.content must be a string, got a boolean \(true\)/],
    ["POST", "/User/CreateConfig", { config_detail: { config_name: 123, content: "x" } }, /field config_detail\.config_name must be a string, got a number \(123\)/],
    ["POST", "/User/CreateConfig", { config_detail: "a" }, /field config_detail must be an object/],
    ["POST", "/User/CreateConfig", { configDetail: { configName: "a", contnet: "x" } }, /unknown field "config_detail\.contnet" in Config/],
    ["POST", "/User/CreateAgentGroup", { agent_group: { group_name: "g", tags: { name: "a" } } }, /field agent_group\.tags must be a list/],
    ["POST", "/User/CreateAgentGroup", { agent_group: { group_name: "g" }, extra: 1 }, /unknown field "extra"/],
    ["POST", "/Agent/HeartBeat", { agent_id: "a", tags: { env: 5 } }, /field tags\.env must be a string/],
    ["POST", "/Agent/GetConfigList", { agent_id: "a", config_versions: { c: "one" } }, /field config_versions\.c must be an integer/],
  ];
  for (const [method, path, body, message] of cases) {
    const r = await send(s.url, method, path, JSON.stringify(body), { "content-type": "application/json" });
    const answer = JSON.parse(r.body.toString()) as Head;
    t.is(r.status, 400, `${path} ${JSON.stringify(body)}`);
    t.is(answer.code, "BadRequest", path);
    t.regex(answer.message, message, path);
  }
  t.is(git(s.repo, "rev-parse", "HEAD").trim(), head);
  t.deepEqual(files(s.repo), ["configs/", "configs/base.yaml"]);
  t.deepEqual(await remembered(s.url, ["a"]), []);
  t.is(await agentCount(s.url), 0);
});

test("JSON text with a lone surrogate escape (\\ud800, not Unicode) is 400 naming the field; nothing is committed and the User API still answers protobuf that decodes", async (t) => {
  const s = await withServer(t);
  await s.api.createGroup({ agent_group: { group_name: "g" } });
  const head = git(s.repo, "rev-parse", "HEAD").trim();
  // Written by hand: JSON.stringify would escape the backslash.
  const cases: [string, string, string, RegExp][] = [
    ["PUT", "/User/UpdateAgentGroup", '{"agentGroup": {"groupName": "g", "tags": [{"name": "\\ud800", "value": "edge"}]}}', /field agent_group\.tags\[0\]\.name is not Unicode text: it holds a lone surrogate/],
    ["POST", "/User/CreateConfig", '{"configDetail": {"configName": "c", "content": "a: \\udc00"}}', /field config_detail\.content is not Unicode text/],
    ["POST", "/Agent/HeartBeat", '{"agentId": "a", "tags": {"\\ud83d": "x"}}', /field tags \(a key\) is not Unicode text/],
    ["PUT", "/api/v1/groups/g", '{"tags": [{"name": "env", "value": "\\udfff"}]}', /The request body's tags\[0\]\.value is not Unicode text: it holds a lone surrogate/],
  ];
  for (const [method, path, body, message] of cases) {
    const r = await send(s.url, method, path, body, { "content-type": "application/json" });
    t.is(r.status, 400, `${path} ${body}`);
    const answer = JSON.parse(r.body.toString()) as Head;
    t.is(answer.code, "BadRequest", path);
    t.regex(answer.message, message, path);
  }
  // A surrogate pair is one character (U+1F4A5) and is fine.
  t.is((await send(s.url, "PUT", "/api/v1/groups/g", '{"description": "\\ud83d\\udca5"}', { "content-type": "application/json" })).status, 200);
  t.is(git(s.repo, "rev-list", "--count", `${head}..HEAD`).trim(), "1");
  const list = await s.api.listGroups();
  t.is(list.status, 200);
  t.is(list.body.agent_groups.find((g) => g.group_name === "g")?.description, "\u{1F4A5}");
});

test("a group tag with an empty name is 400 InvalidParameter naming the tag; nothing is written", async (t) => {
  const s = await withServer(t);
  const created = await s.api.createGroup({ agent_group: { group_name: "g", tags: [{ name: "env", value: "prod" }, { name: "", value: "x" }] } });
  t.is(created.status, 400);
  t.is(created.body.code, "InvalidParameter");
  t.regex(created.body.message, /agent_group\.tags\[1\]\.name is empty/);
  t.deepEqual(files(s.repo), []);
  t.is((await s.api.createGroup({ agent_group: { group_name: "g", tags: [{ name: "env", value: "" }] } })).body.code, "Accept", "an empty value is fine");
  const updated = await s.api.updateGroup({ agent_group: { group_name: "g", tags: [{ name: "", value: "" }] } });
  t.is(updated.status, 400);
  t.is(updated.body.code, "InvalidParameter");
});

test("a request_id longer than 128 characters is echoed in the body but not copied into x-log-requestid", async (t) => {
  const s = await withServer(t, { agentBodyLimit: 1024 * 1024 });
  const long = "r".repeat(100_000);
  for (const path of ["/Agent/HeartBeat", "/Agent/HeartBeat?via=koa"]) {
    const raw = await send(s.url, "POST", path, pb.HeartBeatRequest.encode({ request_id: long, agent_id: "a" }).finish());
    t.is(raw.status, 200, path);
    t.regex(String(raw.headers["x-log-requestid"]), /^[0-9a-f-]{36}$/, path);
    t.is(pb.HeartBeatResponse.decode(raw.body).response_id, long, path);
  }
  const edge = "e".repeat(128);
  const raw = await send(s.url, "POST", "/Agent/HeartBeat", pb.HeartBeatRequest.encode({ request_id: edge, agent_id: "a" }).finish());
  t.is(raw.headers["x-log-requestid"], edge, "128 characters still fit");
});
