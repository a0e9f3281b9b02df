import test, { type ExecutionContext } from "ava";
import { num, pb, type Client } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";

type Answer = { status: number; body: { response_id: string; code: string; message: string } };

function answer(res: Answer) {
  return { status: res.status, code: res.body.code, message: res.body.message };
}

const groupObject = (g: unknown) => pb.AgentGroup.toObject(g as never, { defaults: true });
const { SAME, NEW, DELETED } = pb.ConfigUpdateInfo.UpdateStatus;

test("the default group exists in an empty repository, described and listed", async (t) => {
  const { api } = await withServer(t);
  const got = await api.getGroup({ request_id: "g", group_name: "default" });
  t.deepEqual(answer(got), { status: 200, code: "Accept", message: "Get agent group success" });
  t.is(got.body.response_id, "g");
  t.deepEqual(groupObject(got.body.agent_group), { group_name: "default", description: "Default agent group, include all Agents.", tags: [] });
  const list = await api.listGroups({ request_id: "l" });
  t.deepEqual(answer(list), { status: 200, code: "Accept", message: "Get agent group list success" });
  t.deepEqual(list.body.agent_groups.map(groupObject), [{ group_name: "default", description: "Default agent group, include all Agents.", tags: [] }]);
});

test("agent group create, get, list, update, delete", async (t) => {
  const { api } = await withServer(t);
  const tags = [{ name: "env", value: "prod" }, { name: "app", value: "web" }];
  t.deepEqual(answer(await api.createGroup({ agent_group: { group_name: "web", description: "front ends", tags } })), { status: 200, code: "Accept", message: "Add agent group success" });
  await api.createGroup({ agent_group: { group_name: "Batch" } });
  await api.createGroup({ agent_group: { group_name: "db-1", description: "databases" } });

  // Tags keep the order they were given in.
  t.deepEqual(groupObject((await api.getGroup({ group_name: "web" })).body.agent_group), { group_name: "web", description: "front ends", tags });
  t.deepEqual((await api.listGroups()).body.agent_groups.map((g) => g.group_name), ["Batch", "db-1", "default", "web"]);

  await api.createConfig({ config_detail: { config_name: "c1", content: "x" } });
  await api.apply({ group_name: "web", config_name: "c1" });
  const updated = await api.updateGroup({ request_id: "u", agent_group: { group_name: "web", description: "new", tags: [{ name: "tier", value: "1" }] } });
  t.deepEqual(answer(updated), { status: 200, code: "Accept", message: "Update agent group success" });
  t.deepEqual(groupObject((await api.getGroup({ group_name: "web" })).body.agent_group), { group_name: "web", description: "new", tags: [{ name: "tier", value: "1" }] });
  // An update keeps the applied configs.
  t.deepEqual((await api.appliedConfigs({ group_name: "web" })).body.config_names, ["c1"]);
  // Absent tags mean no tags.
  await api.updateGroup({ agent_group: { group_name: "web" } });
  t.deepEqual(groupObject((await api.getGroup({ group_name: "web" })).body.agent_group), { group_name: "web", description: "", tags: [] });

  t.deepEqual(answer(await api.deleteGroup({ group_name: "db-1" })), { status: 200, code: "Accept", message: "Delete agent group success" });
  t.deepEqual(answer(await api.getGroup({ group_name: "db-1" })), { status: 404, code: "AgentGroupNotExist", message: "Agent group db-1 doesn't exist." });
  t.deepEqual((await api.listGroups()).body.agent_groups.map((g) => g.group_name), ["Batch", "default", "web"]);
  // A deleted group may be created again.
  t.is((await api.createGroup({ agent_group: { group_name: "db-1" } })).body.code, "Accept");
});

test("the default group can be updated, keeps matching every agent, and is never deleted", async (t) => {
  const s = await withServer(t);
  const { api } = s;
  await api.heartbeat({ agent_id: "a1", tags: { env: "prod" } });
  await api.heartbeat({ agent_id: "a2" });
  const res = await api.updateGroup({ agent_group: { group_name: "default", description: "everyone", tags: [{ name: "env", value: "nothing-matches" }] } });
  t.deepEqual(answer(res), { status: 200, code: "Accept", message: "Update agent group success" });
  t.deepEqual(groupObject((await api.getGroup({ group_name: "default" })).body.agent_group), { group_name: "default", description: "everyone", tags: [{ name: "env", value: "nothing-matches" }] });
  t.deepEqual((await api.listAgents({ group_name: "default" })).body.agents.map((a) => a.agent_id), ["a1", "a2"]);
  t.deepEqual(answer(await api.deleteGroup({ group_name: "default" })), { status: 400, code: "BadRequest", message: "Cannot delete agent group 'default'" });
  t.is(git(s.repo, "ls-files").trim(), "agent_groups/default.yaml");
});

test("any-one-tag matching: exact, case-sensitive; a group without tags matches no agent", async (t) => {
  const { api } = await withServer(t);
  await api.createGroup({ agent_group: { group_name: "g", tags: [{ name: "env", value: "prod" }, { name: "role", value: "web" }] } });
  await api.createGroup({ agent_group: { group_name: "empty" } });
  await api.createGroup({ agent_group: { group_name: "blank-value", tags: [{ name: "zone", value: "" }] } });
  const agents: Record<string, Record<string, string>> = {
    "a1-env": { env: "prod" },
    "a2-role": { role: "web", env: "dev" },
    "a3-both": { env: "prod", role: "web" },
    "a4-case-value": { env: "Prod" },
    "a5-case-name": { ENV: "prod" },
    "a6-prefix": { env: "prod2", role: "webs" },
    "a7-none": {},
    "a8-zone-blank": { zone: "" },
    "a9-value-as-name": { prod: "env" },
  };
  // Heartbeats in reverse order: listings are sorted anyway.
  for (const id of Object.keys(agents).reverse()) await api.heartbeat({ agent_id: id, tags: agents[id] });
  const ids = async (group: string) => (await api.listAgents({ group_name: group })).body.agents.map((a) => a.agent_id);
  t.deepEqual(await ids("g"), ["a1-env", "a2-role", "a3-both"]);
  t.deepEqual(await ids("empty"), []);
  // A tag whose value is empty matches an agent tag with the empty value, and only that.
  t.deepEqual(await ids("blank-value"), ["a8-zone-blank"]);
  t.deepEqual(await ids("default"), Object.keys(agents).sort());

  // Membership follows the latest heartbeat's tags.
  await api.heartbeat({ agent_id: "a1-env", tags: { env: "dev" } });
  await api.heartbeat({ agent_id: "a4-case-value", tags: { env: "prod" } });
  t.deepEqual(await ids("g"), ["a2-role", "a3-both", "a4-case-value"]);
});

test("GetConfigList serves the configs of every group matching the agent", async (t) => {
  const { api } = await withServer(t);
  for (const name of ["all", "prod-only", "web-only", "unused"]) await api.createConfig({ config_detail: { config_name: name, content: `${name}\n` } });
  await api.createGroup({ agent_group: { group_name: "prod", tags: [{ name: "env", value: "prod" }] } });
  await api.createGroup({ agent_group: { group_name: "web", tags: [{ name: "role", value: "web" }] } });
  await api.createGroup({ agent_group: { group_name: "untagged" } });
  await api.apply({ group_name: "default", config_name: "all" });
  await api.apply({ group_name: "prod", config_name: "prod-only" });
  await api.apply({ group_name: "web", config_name: "web-only" });
  // Applied to two matching groups: listed once.
  await api.apply({ group_name: "web", config_name: "all" });
  await api.apply({ group_name: "untagged", config_name: "unused" });

  const names = async (agent: string, versions: Record<string, number> = {}) =>
    (await api.configList({ agent_id: agent, config_versions: versions })).body.config_update_infos.map((u) => `${u.config_name}:${u.update_status}`);
  await api.heartbeat({ agent_id: "p", tags: { env: "prod" } });
  await api.heartbeat({ agent_id: "w", tags: { role: "web", env: "dev" } });
  await api.heartbeat({ agent_id: "pw", tags: { role: "web", env: "prod" } });
  await api.heartbeat({ agent_id: "n" });
  t.deepEqual(await names("p"), [`all:${NEW}`, `prod-only:${NEW}`]);
  t.deepEqual(await names("w"), [`all:${NEW}`, `web-only:${NEW}`]);
  t.deepEqual(await names("pw"), [`all:${NEW}`, `prod-only:${NEW}`, `web-only:${NEW}`]);
  t.deepEqual(await names("n"), [`all:${NEW}`]);

  // An agent that leaves a group is told to drop that group's configs.
  const versions = Object.fromEntries((await api.configList({ agent_id: "pw" })).body.config_update_infos.map((u) => [u.config_name, num(u.config_version as never)]));
  t.deepEqual(Object.keys(versions), ["all", "prod-only", "web-only"]);
  await api.heartbeat({ agent_id: "pw", tags: { role: "web" } });
  t.deepEqual(await names("pw", versions), [`all:${SAME}`, `prod-only:${DELETED}`, `web-only:${SAME}`]);

  // agent_type filters nothing.
  await api.updateConfig({ config_detail: { config_name: "all", agent_type: "some-other-agent", content: "all\n" } });
  t.deepEqual(await names("n"), [`all:${NEW}`]);
});

test("ListAgents per group shows each agent's record", async (t) => {
  const { api } = await withServer(t);
  await api.createGroup({ agent_group: { group_name: "prod", tags: [{ name: "env", value: "prod" }] } });
  await api.heartbeat({ agent_id: "b", agent_type: "iLogtail", ip: "10.0.0.2", agent_version: "2.0", running_status: "good", startup_time: 42, tags: { env: "prod" } });
  await api.heartbeat({ agent_id: "a", tags: { env: "dev" } });
  const prod = (await api.listAgents({ group_name: "prod" })).body.agents;
  t.deepEqual(prod.map((a) => a.agent_id), ["b"]);
  t.like(pb.Agent.toObject(prod[0] as never, { longs: Number }), { agent_type: "iLogtail", ip: "10.0.0.2", version: "2.0", running_status: "good", startup_time: 42, tags: { env: "prod" } });
});

/** Runs one request and compares status, code and message; the request id is always echoed. */
async function check(t: ExecutionContext, label: string, call: Promise<Answer>, expected: [number, string, string]) {
  const res = await call;
  t.deepEqual([res.status, res.body.code, res.body.message], expected, label);
}

test("every error row of the User API (the reference ConfigServer's checks), with its exact status, code and message", async (t) => {
  const s = await withServer(t);
  const api: Client = s.api;
  // State: group g1 has c1 applied; c2 exists and is applied nowhere; g2 has nothing.
  await api.createConfig({ config_detail: { config_name: "c1", content: "x" } });
  await api.createConfig({ config_detail: { config_name: "c2", content: "y" } });
  await api.createGroup({ agent_group: { group_name: "g1" } });
  await api.createGroup({ agent_group: { group_name: "g2" } });
  await api.apply({ group_name: "g1", config_name: "c1" });
  const head = git(s.repo, "rev-parse", "HEAD");

  const rows: [string, () => Promise<Answer>, [number, string, string]][] = [
    ["CreateAgentGroup empty name", () => api.createGroup({ agent_group: { group_name: "", description: "d" } }), [400, "BadRequest", "Agent group need parameter GroupName."]],
    ["CreateAgentGroup exists", () => api.createGroup({ agent_group: { group_name: "g1" } }), [400, "AgentGroupAlreadyExist", "Agent group g1 already exists."]],
    ["CreateAgentGroup default (no file)", () => api.createGroup({ agent_group: { group_name: "default" } }), [400, "AgentGroupAlreadyExist", "Agent group default already exists."]],
    ["UpdateAgentGroup empty name", () => api.updateGroup({ agent_group: { description: "d" } }), [400, "BadRequest", "Agent group need parameter groupName."]],
    ["UpdateAgentGroup missing", () => api.updateGroup({ agent_group: { group_name: "nope" } }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],
    ["DeleteAgentGroup empty name", () => api.deleteGroup({}), [400, "BadRequest", "Agent group need parameter groupName."]],
    ["DeleteAgentGroup default", () => api.deleteGroup({ group_name: "default" }), [400, "BadRequest", "Cannot delete agent group 'default'"]],
    ["DeleteAgentGroup missing", () => api.deleteGroup({ group_name: "nope" }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],
    ["DeleteAgentGroup applied", () => api.deleteGroup({ group_name: "g1" }), [500, "InternalServerError", "Agent group g1 was applied to some configs, cannot be deleted."]],
    ["GetAgentGroup empty name", () => api.getGroup({}), [400, "BadRequest", "Agent group need parameter groupName."]],
    ["GetAgentGroup missing", () => api.getGroup({ group_name: "nope" }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],

    ["CreateConfig empty name", () => api.createConfig({ config_detail: { content: "x" } }), [400, "BadRequest", "Need parameter ConfigName."]],
    ["CreateConfig empty name and content", () => api.createConfig({ config_detail: { description: "d" } }), [400, "BadRequest", "Need parameter ConfigName."]],
    ["CreateConfig empty content", () => api.createConfig({ config_detail: { config_name: "c3" } }), [400, "BadRequest", "Need parameter Content."]],
    ["CreateConfig empty content of an existing config", () => api.createConfig({ config_detail: { config_name: "c1" } }), [400, "BadRequest", "Need parameter Content."]],
    ["CreateConfig exists", () => api.createConfig({ config_detail: { config_name: "c1", content: "z" } }), [400, "ConfigAlreadyExist", "Config c1 already exists."]],
    ["UpdateConfig empty name", () => api.updateConfig({ config_detail: { content: "x" } }), [400, "BadRequest", "Need parameter ConfigName."]],
    ["UpdateConfig empty content", () => api.updateConfig({ config_detail: { config_name: "c1" } }), [400, "BadRequest", "Need parameter Content."]],
    ["UpdateConfig empty content of a missing config", () => api.updateConfig({ config_detail: { config_name: "nope" } }), [400, "BadRequest", "Need parameter Content."]],
    ["UpdateConfig missing", () => api.updateConfig({ config_detail: { config_name: "nope", content: "x" } }), [404, "ConfigNotExist", "Config nope doesn't exist."]],
    ["DeleteConfig empty name", () => api.deleteConfig({}), [400, "BadRequest", "Need parameter ConfigName."]],
    ["DeleteConfig missing", () => api.deleteConfig({ config_name: "nope" }), [404, "ConfigNotExist", "Config nope doesn't exist."]],
    ["DeleteConfig applied", () => api.deleteConfig({ config_name: "c1" }), [500, "InternalServerError", "Config c1 was applied to some agent groups, cannot be deleted."]],
    ["GetConfig empty name", () => api.getConfig({}), [400, "BadRequest", "Need parameter ConfigName."]],
    ["GetConfig missing", () => api.getConfig({ config_name: "nope" }), [404, "ConfigNotExist", "Config nope doesn't exist."]],

    ["Apply empty group", () => api.apply({ config_name: "c2" }), [400, "BadRequest", "Need parameter groupName."]],
    ["Apply both empty", () => api.apply({}), [400, "BadRequest", "Need parameter groupName."]],
    ["Apply empty config", () => api.apply({ group_name: "g1" }), [400, "BadRequest", "Need parameter configName."]],
    ["Apply group and config missing", () => api.apply({ group_name: "nope", config_name: "nada" }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],
    ["Apply group missing", () => api.apply({ group_name: "nope", config_name: "c2" }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],
    ["Apply config missing", () => api.apply({ group_name: "g1", config_name: "nada" }), [404, "ConfigNotExist", "Config nada doesn't exist."]],
    ["Apply already applied", () => api.apply({ group_name: "g1", config_name: "c1" }), [400, "ConfigAlreadyExist", "Agent group g1 already has config c1."]],
    ["Remove empty group", () => api.remove({ config_name: "c1" }), [400, "BadRequest", "Need parameter groupName."]],
    ["Remove empty config", () => api.remove({ group_name: "g1" }), [400, "BadRequest", "Need parameter configName."]],
    ["Remove group missing", () => api.remove({ group_name: "nope", config_name: "c1" }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],
    ["Remove config missing", () => api.remove({ group_name: "g1", config_name: "nada" }), [404, "ConfigNotExist", "Config nada doesn't exist."]],
    ["Remove not applied", () => api.remove({ group_name: "g2", config_name: "c1" }), [404, "ConfigNotExist", "Agent group g2 doesn't have config c1."]],
    ["Remove not applied (other config)", () => api.remove({ group_name: "g1", config_name: "c2" }), [404, "ConfigNotExist", "Agent group g1 doesn't have config c2."]],
    ["GetAppliedConfigsForAgentGroup empty", () => api.appliedConfigs({}), [400, "BadRequest", "Need parameter GroupName."]],
    ["GetAppliedConfigsForAgentGroup missing", () => api.appliedConfigs({ group_name: "nope" }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],
    ["GetAppliedAgentGroups empty", () => api.appliedGroups({}), [400, "BadRequest", "Need parameter ConfigName."]],
    ["GetAppliedAgentGroups missing", () => api.appliedGroups({ config_name: "nope" }), [404, "ConfigNotExist", "Config nope doesn't exist."]],
    ["ListAgents empty", () => api.listAgents({}), [400, "BadRequest", "Need parameter groupName."]],
    ["ListAgents missing", () => api.listAgents({ group_name: "nope" }), [404, "AgentGroupNotExist", "Agent group nope doesn't exist."]],

    ["HeartBeat empty agent", () => api.heartbeat({ tags: { a: "b" } }), [400, "BadRequest", "Need parameter AgentID."]],
    ["RunningStatistics empty agent", () => api.statistics({ running_details: { cpu: 1 } }), [400, "BadRequest", "Need parameter AgentID."]],
    ["Alarm empty agent", () => api.alarm({ type: "x" }), [400, "BadRequest", "Need parameter AgentID."]],
    ["GetConfigList empty agent", () => api.configList({}), [400, "BadRequest", "Need parameter AgentID."]],
    ["GetConfigList unknown agent", () => api.configList({ agent_id: "ghost", config_versions: { c1: 1 } }), [404, "AgentNotExist", "Agent ghost doesn't exist."]],
  ];
  for (const [label, run, expected] of rows) await check(t, label, run() as Promise<Answer>, expected);

  // Statistics and alarms do not make an agent known to GetConfigList.
  await api.statistics({ agent_id: "ghost", running_details: { cpu: 1 } });
  await api.alarm({ agent_id: "ghost", type: "t" });
  await check(t, "GetConfigList after statistics only", api.configList({ agent_id: "ghost" }) as Promise<Answer>, [404, "AgentNotExist", "Agent ghost doesn't exist."]);
  t.deepEqual((await api.listAgents({ group_name: "default" })).body.agents, []);

  // No refused request left a commit or a file behind.
  t.is(git(s.repo, "rev-parse", "HEAD"), head);
  t.is(git(s.repo, "status", "--porcelain", "--untracked-files=all"), "");
});
