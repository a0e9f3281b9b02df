import test, { type ExecutionContext } from "ava";
import { callJson, num, pb, ROUTES, send } from "./helpers/client.ts";
import { withServer, type TestServer } from "./helpers/server.ts";

// The original Go server's scenarios, replayed over HTTP against the real server.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { response_id: string; code: string; message: string };
}

/** Asserts a full protocol answer: status, code, message and the echoed request id. */
function expect(t: ExecutionContext, res: Answer, status: number, code: string, message: string, requestId: string): void {
  t.deepEqual(
    { status: res.status, code: res.body.code, message: res.body.message, response_id: res.body.response_id },
    { status, code, message, response_id: requestId },
  );
  t.is(res.headers["content-type"], "application/x-protobuf");
  t.truthy(res.headers["x-log-requestid"]);
}

const accept = (t: ExecutionContext, res: Answer, message: string, requestId: string) => expect(t, res, 200, "Accept", message, requestId);

const cfg = (name: string, content: string, extra: { agent_type?: string; description?: string } = {}) => ({ config_name: name, content, ...extra });

type Update = { config_name: string; update_status: number; config_version: unknown; content: string };
const updates = (infos: readonly Update[]) =>
  infos.map((u) => ({ name: u.config_name, status: u.update_status, version: num(u.config_version as number), content: u.content }));
const { SAME, NEW, DELETED, MODIFIED } = pb.ConfigUpdateInfo.UpdateStatus;

test("config create, get, duplicate, list, update, delete and re-create", async (t) => {
  const { api } = await withServer(t);
  accept(t, await api.createConfig({ request_id: "c1", config_detail: cfg("nginx", "a: 1\n", { agent_type: "ilogtail", description: "web logs" }) }), "Add config success", "c1");

  const got = await api.getConfig({ request_id: "g1", config_name: "nginx" });
  accept(t, got, "Get config success", "g1");
  t.deepEqual(pb.Config.toObject(got.body.config_detail as never, { defaults: true }), { config_name: "nginx", agent_type: "ilogtail", description: "web logs", content: "a: 1\n" });

  expect(t, await api.createConfig({ request_id: "c2", config_detail: cfg("nginx", "b: 2\n") }), 400, "ConfigAlreadyExist", "Config nginx already exists.", "c2");

  accept(t, await api.createConfig({ request_id: "c3", config_detail: cfg("apache", "x\n") }), "Add config success", "c3");
  accept(t, await api.createConfig({ request_id: "c4", config_detail: cfg("Zeta", "z\n") }), "Add config success", "c4");
  accept(t, await api.createConfig({ request_id: "c5", config_detail: cfg("mysql", "m\n") }), "Add config success", "c5");
  const list = await api.listConfigs({ request_id: "l1" });
  accept(t, list, "Get config list success", "l1");
  // Sorted by code unit, as the reference's sorted keys would be: upper case first.
  t.deepEqual(list.body.config_details.map((c) => c.config_name), ["Zeta", "apache", "mysql", "nginx"]);
  t.deepEqual(list.body.config_details.map((c) => c.content), ["z\n", "x\n", "m\n", "a: 1\n"]);

  accept(t, await api.updateConfig({ request_id: "u1", config_detail: cfg("nginx", "a: 2\n", { agent_type: "ilogtail2" }) }), "Update config success", "u1");
  const updated = await api.getConfig({ config_name: "nginx" });
  // Update replaces every field: the description not sent is now empty.
  t.deepEqual(pb.Config.toObject(updated.body.config_detail as never, { defaults: true }), { config_name: "nginx", agent_type: "ilogtail2", description: "", content: "a: 2\n" });

  expect(t, await api.updateConfig({ request_id: "u2", config_detail: cfg("missing", "x") }), 404, "ConfigNotExist", "Config missing doesn't exist.", "u2");

  accept(t, await api.deleteConfig({ request_id: "d1", config_name: "nginx" }), "Delete config success", "d1");
  expect(t, await api.getConfig({ request_id: "g2", config_name: "nginx" }), 404, "ConfigNotExist", "Config nginx doesn't exist.", "g2");
  expect(t, await api.deleteConfig({ request_id: "d2", config_name: "nginx" }), 404, "ConfigNotExist", "Config nginx doesn't exist.", "d2");
  t.deepEqual((await api.listConfigs()).body.config_details.map((c) => c.config_name), ["Zeta", "apache", "mysql"]);

  accept(t, await api.createConfig({ request_id: "c6", config_detail: cfg("nginx", "again\n") }), "Add config success", "c6");
  t.is((await api.getConfig({ config_name: "nginx" })).body.config_detail?.content, "again\n");
});

test("apply and remove, the applied listings and the refusals to delete", async (t) => {
  const { api } = await withServer(t);
  for (const name of ["c1", "c2", "c3"]) t.is((await api.createConfig({ config_detail: cfg(name, `${name}\n`) })).body.code, "Accept");
  accept(t, await api.createGroup({ request_id: "g", agent_group: { group_name: "alpha", tags: [{ name: "k", value: "v" }] } }), "Add agent group success", "g");

  accept(t, await api.apply({ request_id: "a1", group_name: "default", config_name: "c2" }), "Add config to agent group success", "a1");
  accept(t, await api.apply({ request_id: "a2", group_name: "default", config_name: "c1" }), "Add config to agent group success", "a2");
  accept(t, await api.apply({ request_id: "a3", group_name: "alpha", config_name: "c1" }), "Add config to agent group success", "a3");
  expect(t, await api.apply({ request_id: "a4", group_name: "alpha", config_name: "c1" }), 400, "ConfigAlreadyExist", "Agent group alpha already has config c1.", "a4");

  const applied = await api.appliedConfigs({ request_id: "q1", group_name: "default" });
  accept(t, applied, "Get agent group's applied configs success", "q1");
  t.deepEqual(applied.body.config_names, ["c1", "c2"]);
  t.deepEqual((await api.appliedConfigs({ group_name: "alpha" })).body.config_names, ["c1"]);

  const groups = await api.appliedGroups({ request_id: "q2", config_name: "c1" });
  accept(t, groups, "Get group list success", "q2");
  t.deepEqual(groups.body.agent_group_names, ["alpha", "default"]);
  t.deepEqual((await api.appliedGroups({ config_name: "c3" })).body.agent_group_names, []);

  expect(t, await api.deleteConfig({ request_id: "d1", config_name: "c1" }), 500, "InternalServerError", "Config c1 was applied to some agent groups, cannot be deleted.", "d1");
  expect(t, await api.deleteGroup({ request_id: "d2", group_name: "alpha" }), 500, "InternalServerError", "Agent group alpha was applied to some configs, cannot be deleted.", "d2");
  expect(t, await api.deleteGroup({ request_id: "d3", group_name: "default" }), 400, "BadRequest", "Cannot delete agent group 'default'", "d3");

  accept(t, await api.remove({ request_id: "r1", group_name: "alpha", config_name: "c1" }), "Remove config from agent group success", "r1");
  expect(t, await api.remove({ request_id: "r2", group_name: "alpha", config_name: "c1" }), 404, "ConfigNotExist", "Agent group alpha doesn't have config c1.", "r2");
  t.deepEqual((await api.appliedConfigs({ group_name: "alpha" })).body.config_names, []);
  t.deepEqual((await api.appliedGroups({ config_name: "c1" })).body.agent_group_names, ["default"]);

  accept(t, await api.deleteGroup({ request_id: "d4", group_name: "alpha" }), "Delete agent group success", "d4");
  accept(t, await api.remove({ group_name: "default", config_name: "c1" }), "Remove config from agent group success", "");
  accept(t, await api.deleteConfig({ request_id: "d5", config_name: "c1" }), "Delete config success", "d5");
  t.deepEqual((await api.listGroups()).body.agent_groups.map((g) => g.group_name), ["default"]);
});

test("two agents' heartbeats and ListAgents", async (t) => {
  const { api } = await withServer(t);
  const before = Math.floor(Date.now() / 1000);
  accept(t, await api.heartbeat({
    request_id: "h1", agent_id: "zz-agent", agent_type: "iLogtail", agent_version: "1.8.0", ip: "10.0.0.2",
    tags: { region: "eu" }, running_status: "running", startup_time: 1_700_000_000,
  }), "Send heartbeat success", "h1");
  accept(t, await api.heartbeat({ request_id: "h2", agent_id: "aa-agent", agent_type: "iLogtail", agent_version: "1.7.1", ip: "10.0.0.1" }), "Send heartbeat success", "h2");
  const after = Math.ceil(Date.now() / 1000);

  const res = await api.listAgents({ request_id: "l", group_name: "default" });
  accept(t, res, "Get agent list success", "l");
  t.deepEqual(res.body.agents.map((a) => a.agent_id), ["aa-agent", "zz-agent"]);
  const zz = res.body.agents[1];
  t.truthy(zz);
  t.deepEqual(
    { ...pb.Agent.toObject(zz as never, { longs: Number }), latest_heartbeat_time: 0 },
    { agent_id: "zz-agent", agent_type: "iLogtail", ip: "10.0.0.2", version: "1.8.0", running_status: "running", startup_time: 1_700_000_000, latest_heartbeat_time: 0, tags: { region: "eu" } },
  );
  for (const a of res.body.agents) {
    const seconds = num(a.latest_heartbeat_time as never);
    t.true(seconds >= before && seconds <= after, `latest_heartbeat_time ${seconds} is unix seconds in [${before}, ${after}]`);
  }
  // A second heartbeat replaces the record.
  await api.heartbeat({ agent_id: "zz-agent", agent_version: "1.9.0" });
  const again = await api.listAgents({ group_name: "default" });
  t.is(again.body.agents[1]?.version, "1.9.0");
  t.is(again.body.agents[1]?.ip, "");
  t.deepEqual(again.body.agents[1]?.tags, {});
});

test("GetConfigList: NEW for three applied configs, then DELETED, MODIFIED, SAME and NEW", async (t) => {
  const { api } = await withServer(t);
  // Commits 1-3 create, 4-6 apply: versions are the depths of the creating commits.
  for (const name of ["c1", "c2", "c3"]) await api.createConfig({ config_detail: cfg(name, `${name} v1\n`) });
  for (const name of ["c3", "c1", "c2"]) await api.apply({ group_name: "default", config_name: name });
  accept(t, await api.heartbeat({ agent_id: "agent-1" }), "Send heartbeat success", "");

  const first = await api.configList({ request_id: "p1", agent_id: "agent-1" });
  accept(t, first, "Get config update infos success", "p1");
  t.deepEqual(updates(first.body.config_update_infos as never), [
    { name: "c1", status: NEW, version: 1, content: "c1 v1\n" },
    { name: "c2", status: NEW, version: 2, content: "c2 v1\n" },
    { name: "c3", status: NEW, version: 3, content: "c3 v1\n" },
  ]);

  await api.createConfig({ config_detail: cfg("c4", "c4 v1\n") }); // 7
  await api.apply({ group_name: "default", config_name: "c4" }); // 8
  await api.remove({ group_name: "default", config_name: "c1" }); // 9
  await api.updateConfig({ config_detail: cfg("c2", "c2 v2\n") }); // 10

  const second = await api.configList({ request_id: "p2", agent_id: "agent-1", config_versions: { c1: 1, c2: 2, c3: 3 } });
  accept(t, second, "Get config update infos success", "p2");
  t.deepEqual(updates(second.body.config_update_infos as never), [
    { name: "c1", status: DELETED, version: 0, content: "" },
    { name: "c2", status: MODIFIED, version: 10, content: "c2 v2\n" },
    { name: "c3", status: SAME, version: 0, content: "" },
    { name: "c4", status: NEW, version: 7, content: "c4 v1\n" },
  ]);

  // An agent ahead of the server (it kept a higher version) is sent the config again.
  const ahead = await api.configList({ agent_id: "agent-1", config_versions: { c2: 10, c3: 99, c4: 7 } });
  t.deepEqual(updates(ahead.body.config_update_infos as never), [
    { name: "c2", status: SAME, version: 0, content: "" },
    { name: "c3", status: MODIFIED, version: 3, content: "c3 v1\n" },
    { name: "c4", status: SAME, version: 0, content: "" },
  ]);
});

test("RunningStatistics appear in ListAgents running_details; Alarm is accepted", async (t) => {
  const { api } = await withServer(t);
  await api.heartbeat({ agent_id: "a1" });
  accept(t, await api.statistics({ request_id: "s", agent_id: "a1", running_details: { cpu: 12.5, memory: 2048, extras: { open_files: "17", "disk.free": "1G" } } }), "Send running statistics success", "s");
  accept(t, await api.alarm({ request_id: "al", agent_id: "a1", type: "LOGFILE_PERMINSSION_ALARM", detail: "no access" }), "Alarm success", "al");
  const agents = (await api.listAgents({ group_name: "default" })).body.agents;
  t.deepEqual(agents[0]?.running_details, { CPU: "12.500000", Memory: "2048", open_files: "17", "disk.free": "1G" });

  // cpu is a proto float: 0.1 arrives as 0.100000001..., printed with 6 decimals.
  await api.statistics({ agent_id: "a1", running_details: { cpu: 0.1, memory: "9007199254740993" } });
  const details = (await api.listAgents({ group_name: "default" })).body.agents[0]?.running_details;
  t.deepEqual(details, { CPU: "0.100000", Memory: "9007199254740993" });
});

test("response_id echoes request_id and x-log-requestid is set on every route", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: cfg("c1", "x\n") });
  for (const route of ROUTES) {
    for (const requestId of ["rid-" + route.path, ""]) {
      const raw = await send(s.url, route.method, route.path, route.req.encode({ request_id: requestId }).finish());
      const body = route.res.decode(raw.body) as unknown as Answer["body"];
      t.is(body.response_id, requestId, route.path);
      t.truthy(body.code, route.path);
      t.is(raw.headers["content-type"], "application/x-protobuf", route.path);
      const header = raw.headers["x-log-requestid"];
      t.true(typeof header === "string" && header.length > 0, route.path);
      if (requestId) t.is(header, requestId, route.path);
    }
  }
});

/** A server with one applied config, one group and one agent, so that every route can succeed. */
async function populated(t: ExecutionContext): Promise<TestServer> {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: cfg("c1", "x\n") });
  await s.api.createGroup({ agent_group: { group_name: "g1", tags: [{ name: "k", value: "v" }] } });
  await s.api.apply({ group_name: "g1", config_name: "c1" });
  await s.api.heartbeat({ agent_id: "a1", tags: { k: "v" } });
  return s;
}

// Requests that succeed on `populated`, one per read route plus the agent routes.
const successfulReads: Record<string, { body: object; message: string }> = {
  "/User/GetAgentGroup": { body: { group_name: "g1" }, message: "Get agent group success" },
  "/User/ListAgentGroups": { body: {}, message: "Get agent group list success" },
  "/User/GetConfig": { body: { config_name: "c1" }, message: "Get config success" },
  "/User/ListConfigs": { body: {}, message: "Get config list success" },
  "/User/GetAppliedConfigsForAgentGroup": { body: { group_name: "g1" }, message: "Get agent group's applied configs success" },
  "/User/GetAppliedAgentGroups": { body: { config_name: "c1" }, message: "Get group list success" },
  "/User/ListAgents": { body: { group_name: "g1" }, message: "Get agent list success" },
  "/Agent/HeartBeat": { body: { agent_id: "a1", tags: { k: "v" } }, message: "Send heartbeat success" },
  "/Agent/RunningStatistics": { body: { agent_id: "a1", running_details: { cpu: 1 } }, message: "Send running statistics success" },
  "/Agent/Alarm": { body: { agent_id: "a1" }, message: "Alarm success" },
  "/Agent/GetConfigList": { body: { agent_id: "a1" }, message: "Get config update infos success" },
};

test("every GET route also answers POST, with and without a trailing slash", async (t) => {
  const s = await populated(t);
  const reads = ROUTES.filter((r) => r.method === "GET");
  t.is(reads.length, 7);
  for (const route of reads) {
    const spec = successfulReads[route.path];
    if (!spec) return t.fail(`no request for ${route.path}`);
    for (const method of ["GET", "POST"]) {
      for (const path of [route.path, `${route.path}/`]) {
        const raw = await send(s.url, method, path, route.req.encode({ request_id: "q", ...spec.body }).finish());
        const body = route.res.decode(raw.body) as unknown as Answer["body"];
        t.deepEqual({ status: raw.status, code: body.code, message: body.message, response_id: body.response_id }, { status: 200, code: "Accept", message: spec.message, response_id: "q" }, `${method} ${path}`);
      }
    }
  }
});

test("every route is served directly with a trailing slash", async (t) => {
  const s = await populated(t);
  for (const route of ROUTES.filter((r) => r.path.startsWith("/Agent/"))) {
    const spec = successfulReads[route.path];
    if (!spec) return t.fail(`no request for ${route.path}`);
    const raw = await send(s.url, route.method, `${route.path}/`, route.req.encode({ request_id: "q", ...spec.body }).finish());
    t.is(raw.status, 200, route.path);
    t.is((route.res.decode(raw.body) as unknown as Answer["body"]).message, spec.message, route.path);
  }
  // The writes, through their slashed paths, in an order where each succeeds.
  const writes: [string, string, object, string][] = [
    ["POST", "/User/CreateConfig/", pb.CreateConfigRequest.encode({ config_detail: cfg("c2", "y\n") }).finish() as never, "Add config success"],
    ["PUT", "/User/UpdateConfig/", pb.UpdateConfigRequest.encode({ config_detail: cfg("c2", "z\n") }).finish() as never, "Update config success"],
    ["POST", "/User/CreateAgentGroup/", pb.CreateAgentGroupRequest.encode({ agent_group: { group_name: "g2" } }).finish() as never, "Add agent group success"],
    ["PUT", "/User/UpdateAgentGroup/", pb.UpdateAgentGroupRequest.encode({ agent_group: { group_name: "g2", description: "d" } }).finish() as never, "Update agent group success"],
    ["PUT", "/User/ApplyConfigToAgentGroup/", pb.ApplyConfigToAgentGroupRequest.encode({ group_name: "g2", config_name: "c2" }).finish() as never, "Add config to agent group success"],
    ["DELETE", "/User/RemoveConfigFromAgentGroup/", pb.RemoveConfigFromAgentGroupRequest.encode({ group_name: "g2", config_name: "c2" }).finish() as never, "Remove config from agent group success"],
    ["DELETE", "/User/DeleteConfig/", pb.DeleteConfigRequest.encode({ config_name: "c2" }).finish() as never, "Delete config success"],
    ["DELETE", "/User/DeleteAgentGroup/", pb.DeleteAgentGroupRequest.encode({ group_name: "g2" }).finish() as never, "Delete agent group success"],
  ];
  for (const [method, path, body, message] of writes) {
    const raw = await send(s.url, method, path, body as Uint8Array);
    const decoded = pb.CreateConfigResponse.decode(raw.body); // every response starts with the same three fields
    t.deepEqual({ status: raw.status, code: decoded.code, message: decoded.message }, { status: 200, code: "Accept", message }, path);
  }
});

test("an absent nested message is a 400 BadRequest naming the field", async (t) => {
  const { api } = await withServer(t);
  expect(t, await api.createGroup({ request_id: "1" }), 400, "BadRequest", "Need parameter agent_group: the request has no AgentGroup message in field agent_group.", "1");
  expect(t, await api.updateGroup({ request_id: "2" }), 400, "BadRequest", "Need parameter agent_group: the request has no AgentGroup message in field agent_group.", "2");
  expect(t, await api.createConfig({ request_id: "3" }), 400, "BadRequest", "Need parameter config_detail: the request has no Config message in field config_detail.", "3");
  expect(t, await api.updateConfig({ request_id: "4" }), 400, "BadRequest", "Need parameter config_detail: the request has no Config message in field config_detail.", "4");
  expect(t, await api.statistics({ request_id: "5", agent_id: "a1" }), 400, "BadRequest", "Need parameter running_details: the request has no RunningStatistics message in field running_details.", "5");
  // The AgentID check comes first.
  expect(t, await api.statistics({ request_id: "6" }), 400, "BadRequest", "Need parameter AgentID.", "6");
  // A present but empty message is not absent: its own parameter checks apply.
  expect(t, await api.createGroup({ request_id: "7", agent_group: {} }), 400, "BadRequest", "Agent group need parameter GroupName.", "7");
  expect(t, await api.createConfig({ request_id: "8", config_detail: {} }), 400, "BadRequest", "Need parameter ConfigName.", "8");
  accept(t, await api.statistics({ request_id: "9", agent_id: "a1", running_details: {} }), "Send running statistics success", "9");
});

test("JSON in, JSON out, with either spelling of field names", async (t) => {
  const s = await withServer(t);
  const created = await callJson(s.url, "POST", "/User/CreateConfig", { requestId: "j1", configDetail: { configName: "jc", agentType: "ilogtail", content: "a: 1\n" } });
  t.is(created.status, 200);
  t.regex(String(created.headers["content-type"]), /^application\/json/);
  t.truthy(created.headers["x-log-requestid"]);
  t.deepEqual(created.body, { responseId: "j1", code: "Accept", message: "Add config success" });

  const snake = await callJson(s.url, "POST", "/User/CreateConfig", { request_id: "j2", config_detail: { config_name: "jd", content: "b\n" } });
  t.deepEqual(snake.body, { responseId: "j2", code: "Accept", message: "Add config success" });

  const applied = await callJson(s.url, "PUT", "/User/ApplyConfigToAgentGroup", { groupName: "default", configName: "jc" });
  t.is(applied.body.code, "Accept");
  const got = await callJson(s.url, "GET", "/User/GetConfig", { configName: "jc" });
  t.deepEqual(got.body.configDetail, { configName: "jc", agentType: "ilogtail", description: "", content: "a: 1\n" });

  const hb = await callJson(s.url, "POST", "/Agent/HeartBeat", { request_id: "h", agent_id: "ja", tags: { zone: "a" }, startupTime: "1700000000" });
  t.deepEqual(hb.body, { responseId: "h", code: "Accept", message: "Send heartbeat success" });
  const agents = await callJson(s.url, "POST", "/User/ListAgents", { groupName: "default" });
  const agentList = agents.body.agents as Record<string, unknown>[];
  t.is(agentList.length, 1);
  t.is(agentList[0]?.agentId, "ja");
  t.deepEqual(agentList[0]?.tags, { zone: "a" });
  t.is(agentList[0]?.startupTime, "1700000000");

  const fresh = await callJson(s.url, "POST", "/Agent/GetConfigList", { agentId: "ja" });
  const infos = fresh.body.configUpdateInfos as Record<string, unknown>[];
  t.is(infos.length, 1);
  t.like(infos[0], { configName: "jc", updateStatus: "NEW", configVersion: "1", content: "a: 1\n" });

  const same = await callJson(s.url, "POST", "/Agent/GetConfigList", { agent_id: "ja", config_versions: { jc: 1, gone: "5" } });
  const sameInfos = same.body.configUpdateInfos as Record<string, unknown>[];
  t.deepEqual(sameInfos.map((i) => [i.configName, i.updateStatus]), [["gone", "DELETED"], ["jc", "SAME"]]);

  const bad = await callJson(s.url, "GET", "/User/GetConfig", { configName: "nope", requestId: "r" });
  t.is(bad.status, 404);
  t.deepEqual(bad.body, { responseId: "r", code: "ConfigNotExist", message: "Config nope doesn't exist." });
});

test("an agent known only by the tags in its GetConfigList request is served; an unknown one is not", async (t) => {
  const { api } = await withServer(t);
  await api.createConfig({ config_detail: cfg("c1", "x\n") });
  await api.createGroup({ agent_group: { group_name: "g", tags: [{ name: "env", value: "prod" }] } });
  await api.apply({ group_name: "g", config_name: "c1" });
  const tagged = await api.configList({ agent_id: "new-agent", tags: { env: "prod" } });
  t.is(tagged.status, 200);
  t.deepEqual(updates(tagged.body.config_update_infos as never).map((u) => [u.name, u.status]), [["c1", NEW]]);
  expect(t, await api.configList({ request_id: "x", agent_id: "ghost" }), 404, "AgentNotExist", "Agent ghost doesn't exist.", "x");
});
