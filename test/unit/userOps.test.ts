import test, { type ExecutionContext } from "ava";
import { DomainError } from "../../src/domain/errors.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import type { ConfigRecord, GroupSpec } from "../../src/domain/types.ts";
import * as ops from "../../src/domain/userOps.ts";
import { contentChecker } from "../../src/store/contentCheck.ts";
import { DEFAULTS } from "../../src/settings/options.ts";

const checkContent = contentChecker({ maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets });

const rec = (name: string, version = 1): ConfigRecord => ({ name, version, commit: "h", agentType: "t", description: "d", content: `${name}\n` });
const grp = (name: string, configs: string[] = [], tags = [{ name: "k", value: "v" }]): GroupSpec => ({ name, description: "d", tags, configs });

/** c1 applied to g1; c2 applied nowhere; g2 empty; default implicit. */
const state = () => new RepoState("head", 3, 0, [rec("c1"), rec("c2")], [grp("g1", ["c1"]), grp("g2")]);

function fails(t: ExecutionContext, run: () => unknown, code: string, message: string) {
  const e = t.throws(run, { instanceOf: DomainError });
  t.deepEqual([e?.code, e?.message], [code, message]);
}

test("create config: one putConfig change", (t) => {
  const spec = { name: "c3", agentType: "a", description: "", content: "x" };
  t.deepEqual(ops.planCreateConfig(state(), spec, checkContent), { changes: [{ kind: "putConfig", config: spec }], message: "Create config c3" });
  fails(t, () => ops.planCreateConfig(state(), { ...spec, name: "c1" }, checkContent), "ConfigAlreadyExist", "Config c1 already exists.");
  fails(t, () => ops.planCreateConfig(state(), { ...spec, name: "", content: "" }, checkContent), "BadRequest", "Need parameter ConfigName.");
  fails(t, () => ops.planCreateConfig(state(), { ...spec, name: "c1", content: "" }, checkContent), "BadRequest", "Need parameter Content.");
  fails(t, () => ops.planCreateConfig(state(), { ...spec, name: "a/b" }, checkContent), "InvalidParameter", `Invalid config name "a/b": a name must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ (start with a letter or digit; then letters, digits, '.', '_' or '-'; at most 128 characters).`);
});

test("update config: no change when every field is equal", (t) => {
  const same = { name: "c1", agentType: "t", description: "d", content: "c1\n" };
  t.deepEqual(ops.planUpdateConfig(state(), same, checkContent).changes, []);
  for (const changed of [{ agentType: "u" }, { description: "" }, { content: "c1\r\n" }]) {
    t.deepEqual(ops.planUpdateConfig(state(), { ...same, ...changed }, checkContent).changes, [{ kind: "putConfig", config: { ...same, ...changed } }]);
  }
  fails(t, () => ops.planUpdateConfig(state(), { ...same, name: "nope" }, checkContent), "ConfigNotExist", "Config nope doesn't exist.");
});

test("delete config: refused while applied", (t) => {
  t.deepEqual(ops.planDeleteConfig(state(), "c2"), { changes: [{ kind: "deleteConfig", name: "c2" }], message: "Delete config c2" });
  fails(t, () => ops.planDeleteConfig(state(), "c1"), "Conflict", "Config c1 was applied to some agent groups, cannot be deleted.");
  // The alpha User API answers it as the reference server does.
  t.is((t.throws(() => ops.planDeleteConfig(state(), "c1")) as DomainError).protocolCode, "InternalServerError");
  fails(t, () => ops.planDeleteConfig(state(), "nope"), "ConfigNotExist", "Config nope doesn't exist.");
  fails(t, () => ops.planDeleteConfig(state(), ""), "BadRequest", "Need parameter ConfigName.");
});

test("groups: create, update, delete, and the implicit default", (t) => {
  const s = state();
  t.deepEqual(ops.planCreateGroup(s, { name: "g3", description: "x", tags: [] }).changes, [{ kind: "putGroup", group: { name: "g3", description: "x", tags: [], configs: [] } }]);
  fails(t, () => ops.planCreateGroup(s, { name: "default", description: "", tags: [] }), "AgentGroupAlreadyExist", "Agent group default already exists.");
  fails(t, () => ops.planCreateGroup(s, { name: "", description: "", tags: [] }), "BadRequest", "Agent group need parameter GroupName.");

  // Update keeps the applied configs; the same description and tags in the same order is no change.
  t.deepEqual(ops.planUpdateGroup(s, { name: "g1", description: "d", tags: [{ name: "k", value: "v" }] }).changes, []);
  t.deepEqual(ops.planUpdateGroup(s, { name: "g1", description: "e", tags: [] }).changes, [{ kind: "putGroup", group: { name: "g1", description: "e", tags: [], configs: ["c1"] } }]);
  t.deepEqual(ops.planUpdateGroup(s, { name: "default", description: "all", tags: [] }).changes, [{ kind: "putGroup", group: { name: "default", description: "all", tags: [], configs: [] } }]);
  fails(t, () => ops.planUpdateGroup(s, { name: "", description: "", tags: [] }), "BadRequest", "Agent group need parameter groupName.");
  fails(t, () => ops.planUpdateGroup(s, { name: "nope", description: "", tags: [] }), "AgentGroupNotExist", "Agent group nope doesn't exist.");

  t.deepEqual(ops.planDeleteGroup(s, "g2").changes, [{ kind: "deleteGroup", name: "g2" }]);
  fails(t, () => ops.planDeleteGroup(s, "default"), "BadRequest", "Cannot delete agent group 'default'");
  fails(t, () => ops.planDeleteGroup(s, "g1"), "Conflict", "Agent group g1 was applied to some configs, cannot be deleted.");
  t.is((t.throws(() => ops.planDeleteGroup(s, "g1")) as DomainError).protocolCode, "InternalServerError");
  fails(t, () => ops.planDeleteGroup(s, "nope"), "AgentGroupNotExist", "Agent group nope doesn't exist.");
  t.deepEqual(ops.getGroup(s, "default"), { name: "default", description: "Default agent group, include all Agents.", tags: [], configs: [] });
});

test("apply and remove keep the group's configs sorted and unique", (t) => {
  const s = new RepoState("h", 1, 0, [rec("a"), rec("m"), rec("z")], [grp("g", ["m"])]);
  t.deepEqual(ops.planApplyConfig(s, "g", "z").changes, [{ kind: "putGroup", group: { ...grp("g"), configs: ["m", "z"] } }]);
  t.deepEqual(ops.planApplyConfig(s, "g", "a").changes, [{ kind: "putGroup", group: { ...grp("g"), configs: ["a", "m"] } }]);
  t.deepEqual(ops.planApplyConfig(s, "default", "a").changes, [{ kind: "putGroup", group: { name: "default", description: "Default agent group, include all Agents.", tags: [], configs: ["a"] } }]);
  t.deepEqual(ops.planRemoveConfig(s, "g", "m").changes, [{ kind: "putGroup", group: { ...grp("g"), configs: [] } }]);
  fails(t, () => ops.planApplyConfig(s, "g", "m"), "ConfigAlreadyExist", "Agent group g already has config m.");
  fails(t, () => ops.planRemoveConfig(s, "g", "a"), "ConfigNotExist", "Agent group g doesn't have config a.");
  // The served state is not touched by planning.
  t.deepEqual(s.groups.get("g")?.configs, ["m"]);
});

test("apply and remove check in the protocol's order", (t) => {
  const s = state();
  for (const plan of [ops.planApplyConfig, ops.planRemoveConfig]) {
    fails(t, () => plan(s, "", ""), "BadRequest", "Need parameter groupName.");
    fails(t, () => plan(s, "g1", ""), "BadRequest", "Need parameter configName.");
    fails(t, () => plan(s, "nope", "nada"), "AgentGroupNotExist", "Agent group nope doesn't exist.");
    fails(t, () => plan(s, "g1", "nada"), "ConfigNotExist", "Config nada doesn't exist.");
    fails(t, () => plan(s, "../g", "nada"), "InvalidParameter", `Invalid agent group name "../g": a name must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ (start with a letter or digit; then letters, digits, '.', '_' or '-'; at most 128 characters).`);
  }
});

test("reads: applied configs, applying groups, listing", (t) => {
  const s = new RepoState("h", 1, 0, [rec("c")], [grp("b", ["c"]), grp("a", ["c"]), { ...grp("default"), configs: ["c"] }]);
  t.deepEqual(ops.appliedConfigsOf(s, "a"), ["c"]);
  t.deepEqual(ops.groupsApplying(s, "c"), ["a", "b", "default"]);
  t.is(ops.groupForListing(s, "b").name, "b");
  fails(t, () => ops.appliedConfigsOf(s, ""), "BadRequest", "Need parameter GroupName.");
  fails(t, () => ops.groupsApplying(s, ""), "BadRequest", "Need parameter ConfigName.");
  fails(t, () => ops.groupsApplying(s, "x"), "ConfigNotExist", "Config x doesn't exist.");
  fails(t, () => ops.groupForListing(s, ""), "BadRequest", "Need parameter groupName.");
  fails(t, () => ops.getConfig(s, "x"), "ConfigNotExist", "Config x doesn't exist.");
});
