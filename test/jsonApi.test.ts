import test from "ava";
import { callJson, pb, ROUTES, send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { commitFiles } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";
import { agentOf, configOf, versionOf, waitForCommit } from "./helpers/observe.ts";

const ACCEPT_JSON = { accept: "application/json" };
const json = (body: Buffer) => JSON.parse(body.toString("utf8")) as Record<string, unknown>;
const USER_ROUTES = ROUTES.filter((r) => r.path.startsWith("/User/"));

test("every /User route answers its protocol method and POST (JSON and protobuf); GET stays refused on writes", async (t) => {
  const s = await withServer(t);
  for (const route of USER_ROUTES) {
    for (const method of new Set([route.method, "POST"])) {
      const r = await callJson(s.url, method, route.path, {});
      t.not(r.status, 405, `${method} ${route.path}`);
      t.regex(String(r.headers["content-type"]), /^application\/json/, `${method} ${route.path}`);
      t.is(typeof r.body.code, "string", `${method} ${route.path}`);
      const raw = await send(s.url, method, route.path, route.req.encode({}).finish(), { "content-type": "application/x-protobuf" });
      t.is(raw.headers["content-type"], "application/x-protobuf", `${method} ${route.path}`);
      t.is(typeof (route.res.decode(raw.body) as unknown as { code: string }).code, "string");
    }
    if (route.method !== "GET") t.is((await send(s.url, "GET", route.path, "")).status, 405, `GET ${route.path}`);
  }

  // A whole session with POST only, as a form or `curl -d` would do it.
  const post = (path: string, body: unknown) => callJson(s.url, "POST", path, body);
  t.is((await post("/User/CreateConfig", { configDetail: { configName: "app", content: "enable: true\n" } })).body.code, "Accept");
  t.is((await post("/User/UpdateConfig", { configDetail: { configName: "app", content: "enable: false\n" } })).body.code, "Accept");
  t.is((await post("/User/CreateAgentGroup", { agentGroup: { groupName: "web" } })).body.code, "Accept");
  t.is((await post("/User/UpdateAgentGroup", { agentGroup: { groupName: "web", description: "front" } })).body.code, "Accept");
  t.is((await post("/User/ApplyConfigToAgentGroup", { groupName: "web", configName: "app" })).body.code, "Accept");
  t.deepEqual((await post("/User/GetAppliedConfigsForAgentGroup", { groupName: "web" })).body.configNames, ["app"]);
  t.is((await post("/User/RemoveConfigFromAgentGroup", { groupName: "web", configName: "app" })).body.code, "Accept");
  t.is((await post("/User/DeleteAgentGroup", { groupName: "web" })).body.code, "Accept");
  t.is((await post("/User/DeleteConfig", { configName: "app" })).body.code, "Accept");
  t.is(git(s.repo, "log", "--format=%s").trim().split("\n").length, 8);
});

test("Accept: application/json gets JSON for a request with no body or a protobuf body; binary otherwise", async (t) => {
  const s = await withServer(t, { userToken: "tok" });
  const auth = { authorization: "Bearer tok" };
  t.is((await send(s.url, "POST", "/User/CreateConfig", pb.CreateConfigRequest.encode({ config_detail: { config_name: "app", content: "x" } }).finish(), auth)).status, 200);

  const empty = await send(s.url, "GET", "/User/ListConfigs", "", { ...auth, ...ACCEPT_JSON });
  t.is(empty.status, 200);
  t.is(empty.headers["content-type"], "application/json; charset=utf-8");
  t.like(json(empty.body), { code: "Accept", configDetails: [{ configName: "app", agentType: "", description: "", content: "x" }] });

  const getConfig = pb.GetConfigRequest.encode({ request_id: "r1", config_name: "nope" }).finish();
  const missing = await send(s.url, "POST", "/User/GetConfig", getConfig, { ...auth, "content-type": "application/x-protobuf", accept: "application/x-protobuf;q=0.5, application/json" });
  t.is(missing.status, 404);
  t.deepEqual(json(missing.body), { responseId: "r1", code: "ConfigNotExist", message: "Config nope doesn't exist." });

  const refused = await send(s.url, "GET", "/User/ListConfigs", "", ACCEPT_JSON);
  t.is(refused.status, 401);
  t.like(json(refused.body), { code: "Unauthorized" });

  for (const accept of [undefined, "*/*", "application/x-protobuf", "application/x-protobuf, application/json;q=0.5", "text/html,application/xhtml+xml,*/*;q=0.8"]) {
    const r = await send(s.url, "GET", "/User/ListConfigs", "", { ...auth, ...(accept ? { accept } : {}) });
    t.is(r.headers["content-type"], "application/x-protobuf", String(accept));
    t.is(pb.ListConfigsResponse.decode(r.body).config_details[0]?.config_name, "app", String(accept));
  }
});

test("/User routes take their fields from the query string too, in either spelling; agent routes do not", async (t) => {
  const s = await withServer(t);
  t.is((await s.api.createConfig({ config_detail: { config_name: "app", content: "x" } })).body.code, "Accept");
  for (const q of ["config_name=app", "configName=app"]) {
    const r = await send(s.url, "GET", `/User/GetConfig?${q}`, "", ACCEPT_JSON);
    t.is(r.status, 200, q);
    t.like(json(r.body), { code: "Accept", configDetail: { configName: "app" } }, q);
  }
  const pbAnswer = await send(s.url, "GET", "/User/GetAppliedAgentGroups?config_name=app", "");
  t.deepEqual(pb.GetAppliedAgentGroupsResponse.decode(pbAnswer.body).agent_group_names, []);
  t.is(json((await send(s.url, "GET", "/User/ListAgents?groupName=default", "", ACCEPT_JSON)).body).code, "Accept");

  const refusals: [string, string, RegExp][] = [
    ["GET", "/User/GetConfig?config=app", /^The query string does not fit configserver\.proto\.GetConfigRequest: unknown field "config" in GetConfigRequest; its fields are request_id, config_name/],
    ["GET", "/User/GetConfig?configName=app&configName=b", /configName is given 2 times/],
    ["GET", "/User/GetConfig?configName=app&config_name=app", /field "config_name" is given twice, as config_name and as configName/],
    ["GET", "/User/CreateConfig?configDetail=x", /./],
  ];
  for (const [method, path, message] of refusals) {
    const r = await send(s.url, method === "GET" && path.includes("Create") ? "POST" : method, path, "", ACCEPT_JSON);
    t.is(r.status, 400, path);
    t.is(json(r.body).code, "BadRequest", path);
    t.regex(String(json(r.body).message), message, path);
  }
  const both = await callJson(s.url, "POST", "/User/GetConfig?configName=app", { configName: "app" });
  t.is(both.status, 400);
  t.regex(String(both.body.message), /field config_name is given in both the query string and the body/);

  const deleted = await send(s.url, "DELETE", "/User/DeleteConfig?configName=app", "", ACCEPT_JSON);
  t.is(json(deleted.body).code, "Accept");
  t.is(await configOf(s.url, "app"), undefined);

  // An agent URL with a query string is served by the same route through koa: the body decides.
  const hb = await send(s.url, "POST", "/Agent/HeartBeat?agent_id=from-query", pb.HeartBeatRequest.encode({ agent_id: "from-body" }).finish(), { "content-type": "application/x-protobuf" });
  t.is(pb.HeartBeatResponse.decode(hb.body).code, "Accept");
  t.truthy(await agentOf(s.url, "from-body"));
  t.falsy(await agentOf(s.url, "from-query"));
});

/** Every object key of a JSON answer, with its path; map-valued fields hold data (tag names), not field names. */
function keys(value: unknown, path = "", out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => keys(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push(`${path}.${k}`);
      if (!["tags", "runningDetails", "attributes", "statistics", "agentsByProtocol"].includes(k)) keys(v, `${path}.${k}`, out);
    }
  }
  return out;
}

test("every JSON answer spells its fields in camelCase; snake_case (protobuf names) is accepted on input", async (t) => {
  const s = await withServer(t);
  commitFiles(s.repo, {
    "configs/app_logs.yaml": "config_name: app_logs\nagent_type: ilogtail\ndescription: ''\ncontent: |\n  enable: true\n",
    "instance_configs/send_limit.yaml": "config_name: send_limit\ndescription: ''\ncontent: '{\"max_bytes_per_sec\": 1}'\n",
    "agent_groups/default.yaml": "group_name: default\ndescription: ''\ntags: []\nconfigs: [app_logs]\ninstance_configs: [send_limit]\n",
  });
  const h = git(s.repo, "rev-parse", "HEAD").trim();
  await waitForCommit(s.url, h);
  // Input in both spellings.
  t.is((await callJson(s.url, "POST", "/User/CreateConfig", { config_detail: { config_name: "snake", agent_type: "ilogtail", content: "a: 1\n" } })).body.code, "Accept");
  t.is((await callJson(s.url, "PUT", "/User/UpdateConfig", { configDetail: { configName: "snake", agentType: "ilogtail", content: "a: 2\n" } })).body.code, "Accept");
  const twice = await callJson(s.url, "POST", "/User/CreateConfig", { configDetail: { configName: "x", config_name: "y", content: "a" } });
  t.is(twice.status, 400);
  t.regex(String(twice.body.message), /field "config_detail\.config_name" is given twice, as config_name and as configName/);
  await s.api.heartbeat({ agent_id: "agent_1", tags: { host_name: "h1" } });
  await s.api.configList({ agent_id: "agent_1" });
  const version = await versionOf(s.url, "app_logs");

  const answers: [number, string, string, unknown?][] = [
    [200, "GET", "/User/ListConfigs"],
    [200, "GET", "/User/GetConfig", { configName: "app_logs" }],
    [200, "GET", "/User/ListAgentGroups"],
    [200, "GET", "/User/ListAgents", { groupName: "default" }],
    [404, "GET", "/User/GetConfig", { configName: "missing" }],
    [200, "GET", "/api/v1/agents"],
    [200, "GET", "/api/v1/agents/agent_1"],
    [404, "GET", "/api/v1/agents/missing"],
    [200, "GET", "/api/v1/configs/app_logs/history"],
    [200, "GET", `/api/v1/configs/app_logs/versions/${version}`],
    [200, "POST", "/api/v1/configs/app_logs/rollback", { version }],
    [200, "GET", "/api/v1/configs"],
    [200, "GET", "/api/v1/configs/app_logs"],
    [200, "GET", "/api/v1/instance-configs"],
    [200, "GET", "/api/v1/instance-configs/send_limit"],
    [200, "GET", "/api/v1/instance-configs/send_limit/history"],
    [200, "GET", "/api/v1/configs/app_logs/rollout"],
    [200, "GET", "/api/v1/instance-configs/send_limit/rollout"],
    [200, "GET", "/status"],
    [200, "GET", "/healthz"],
    [200, "GET", "/readyz"],
  ];
  for (const [status, method, path, body] of answers) {
    const r = await callJson(s.url, method, path, body ?? {});
    t.is(r.status, status, path);
    const all = keys(r.body);
    t.true(all.length > 0, path);
    t.deepEqual(all.filter((k) => /_/.test(k.slice(k.lastIndexOf(".") + 1))), [], `${method} ${path}`);
  }
  const history = await callJson(s.url, "GET", "/api/v1/configs/app_logs/history");
  t.like(history.body, { configName: "app_logs", currentVersion: version });
  t.like((history.body.versions as unknown[])[0], { version, action: "created", author: "Test Person", authorEmail: "person@example.com" });
  const at = await callJson(s.url, "GET", `/api/v1/configs/app_logs/versions/${version}`);
  t.like(at.body, { code: "Accept", version, configDetail: { configName: "app_logs", agentType: "ilogtail", content: "enable: true\n" } });

  const extra = await callJson(s.url, "POST", "/api/v1/configs/app_logs/rollback", { version, restore: "all" });
  t.is(extra.status, 400);
  t.regex(String(extra.body.message), /unknown field "restore" in the rollback request/);
});
