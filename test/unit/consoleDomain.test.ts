import test from "ava";
import { ApplyStatus, type AgentRecord, type AgentTags } from "../../src/domain/agent.ts";
import { configDiff } from "../../src/domain/configDiff.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { checkConfigFile, checkGroupFile } from "../../src/domain/fileCheck.ts";
import { summarizeFleet } from "../../src/domain/fleetSummary.ts";
import { countGroupAgents, groupsOf, planReplaceGroup } from "../../src/domain/groupOps.ts";
import { tagsKey } from "../../src/domain/matching.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import type { ConfigRecord, GroupSpec } from "../../src/domain/types.ts";
import { parseConfigFile, parseGroupFile } from "../../src/store/yaml/parseFiles.ts";

const rec = (name: string): ConfigRecord => ({ name, version: 1, commit: "h", agentType: "t", description: "d", content: "a: 1\n" });
const grp = (name: string, configs: string[], tags = [{ name: "env", value: name }]): GroupSpec => ({ name, description: "", tags, configs });
const state = () => new RepoState("head", 3, 0, [rec("c1"), rec("c2")], [grp("prod", ["c1"]), grp("dev", [])]);

function agent(id: string, named: Record<string, string>, extra: Partial<AgentRecord> = {}, now = 1_000_000): AgentRecord {
  const tags: AgentTags = { named };
  return {
    agentId: id,
    heartbeat: { agentId: id, protocol: "v2", attributes: { agentType: "x", version: "3.0.5", ip: "", hostname: "", extras: {} }, tags, runningStatus: "", startupTime: 0 },
    tagsKey: tagsKey(tags),
    latestHeartbeatTime: Math.floor(now / 1000),
    lastSeenMs: now,
    statistics: undefined,
    alarms: [],
    pipelines: [],
    instances: [],
    reportedMs: 0,
    ...extra,
  };
}

test("replacing a group: one putGroup with sorted configs, nothing when equal, refusals named", (t) => {
  const plan = planReplaceGroup(state(), { name: "prod", description: "", tags: [{ name: "env", value: "prod" }], configs: ["c2", "c1", "c2"] });
  t.deepEqual(plan.changes, [{ kind: "putGroup", group: { name: "prod", description: "", tags: [{ name: "env", value: "prod" }], configs: ["c1", "c2"] } }]);
  t.is(plan.message, "Update agent group prod");
  t.deepEqual(planReplaceGroup(state(), { name: "prod", description: "", tags: [{ name: "env", value: "prod" }], configs: ["c1"] }).changes, []);
  t.is(planReplaceGroup(state(), { name: "new", description: "", tags: [], configs: [] }).message, "Create agent group new");
  const code = (f: () => unknown) => t.throws(f, { instanceOf: DomainError })?.code;
  t.is(code(() => planReplaceGroup(state(), { name: "prod", description: "", tags: [], configs: ["nope"] })), "ConfigNotExist");
  t.is(code(() => planReplaceGroup(state(), { name: "prod", description: "", tags: [{ name: "", value: "" }], configs: [] })), "InvalidParameter");
  t.is(code(() => planReplaceGroup(state(), { name: "a b", description: "", tags: [], configs: [] })), "InvalidParameter");
  t.is(code(() => planReplaceGroup(state(), { name: "prod", description: "", tags: [], configs: [], instanceConfigs: ["nope"] })), "ConfigNotExist");
});

test("group agent counts: every group's agents and late agents in one pass", (t) => {
  const now = 1_000_000;
  const agents = [agent("a", { env: "prod" }), agent("b", { env: "prod" }, { latestHeartbeatTime: 0 }), agent("c", { env: "dev" }), { ...agent("d", {}), heartbeat: undefined }];
  const counts = countGroupAgents(state().sortedGroups, agents, now);
  t.deepEqual(Object.fromEntries(counts), { default: { agents: 3, late: 1 }, dev: { agents: 1, late: 0 }, prod: { agents: 2, late: 1 } });
  t.deepEqual(groupsOf(state().sortedGroups, agents[0] as AgentRecord), ["default", "prod"]);
});

test("fleet summary: protocols, versions by count, late and failing agents", (t) => {
  const failed = [{ name: "c1", version: 1, status: ApplyStatus.FAILED, message: "x" }];
  const s = summarizeFleet([agent("a", {}), agent("b", {}, { pipelines: failed }), agent("c", {}, { latestHeartbeatTime: 0 })], 1_000_000);
  t.deepEqual(s, { agents: 3, late: 1, failed: 1, byProtocol: { alpha: 0, v1: 0, v2: 3 }, byVersion: [{ version: "3.0.5", agents: 3 }] });
});

test("config diff: numbered lines on both sides, the other fields that changed", (t) => {
  const d = configDiff({ agentType: "a", description: "old", content: "x\ny\nz\n" }, { agentType: "a", description: "new", content: "x\nY\nz\nw\n" });
  t.deepEqual(d.fields, [{ field: "description", before: "old", after: "new" }]);
  t.deepEqual(d.lines.map((l) => `${l.op}${l.oldLine ?? "-"}:${l.newLine ?? "-"} ${l.text}`), [" 1:1 x", "-2:- y", "+-:2 Y", " 3:3 z", "+-:4 w"]);
  t.deepEqual([d.added, d.removed], [2, 1]);
  const created = configDiff(undefined, { description: "", content: "a\n" });
  t.deepEqual([created.fields, created.added, created.lines[0]?.newLine], [[], 1, 1]);
});

test("checking an edited config file: parse problems, rename, existing name, all at the file's lines", (t) => {
  const check = (text: string, editing?: string) => checkConfigFile(state(), parseConfigFile("configs/x.yaml", text), editing);
  const ok = check("config_name: c1\ncontent: |\n  a: 2\n", "c1");
  t.deepEqual(ok.problems, []);
  t.is(ok.path, "configs/c1.yaml");
  t.is(ok.spec?.content, "a: 2\n");
  const typo = check("config_name: c1\ncontnt: x\n", "c1");
  t.true(typo.problems.every((p) => p.file === "configs/c1.yaml"));
  t.true(typo.problems.some((p) => p.line === 2 && /unknown field "contnt": did you mean "content"/.test(p.message)));
  t.is(typo.spec, undefined);
  t.regex(check("config_name: c2\ncontent: x\n", "c1").problems[0]?.message ?? "", /must stay "c1"/);
  t.regex(check("config_name: c2\ncontent: x\n").problems[0]?.message ?? "", /already exists/);
  t.regex(check("config_name: no/slash\ncontent: x\n").problems[0]?.message ?? "", /Invalid config name/);
  t.deepEqual(check("config_name: c9\ncontent: x\n").problems, []);
});

test("checking an edited group file: configs it applies must exist, each at its line", (t) => {
  const check = (text: string, editing?: string) => checkGroupFile(state(), parseGroupFile("agent_groups/x.yaml", text), editing);
  t.deepEqual(check("group_name: prod\nconfigs:\n  - c1\n  - c2\n", "prod").problems, []);
  const missing = check("group_name: prod\nconfigs:\n  - c1\n  - gone\n  - c1\n", "prod");
  t.deepEqual(missing.problems.map((p) => p.line), [4, 5]);
  t.regex(missing.problems[0]?.message ?? "", /"gone", which does not exist/);
  t.regex(missing.problems[1]?.message ?? "", /listed twice/);
  t.regex(check("group_name: dev\n").problems[0]?.message ?? "", /already exists/);
});

