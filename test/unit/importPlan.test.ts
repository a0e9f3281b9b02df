import test from "ava";
import { importProblems, planImport, type ImportSource } from "../../src/domain/importPlan.ts";
import { RepoState } from "../../src/domain/repoState.ts";

const rec = (name: string, content: string, version = 1) => ({ name, agentType: "", description: "", content, version, commit: `c${version}` });
const source = (s: Partial<ImportSource>): ImportSource => ({ label: "the v1 ConfigServer at http://old", configs: [], groups: [], ...s });

test("every bad name, duplicate and empty content is listed at once", (t) => {
  const problems = importProblems(source({
    configs: [
      { name: "ok", agentType: "", description: "", content: "a" },
      { name: "has space", agentType: "", description: "", content: "a" },
      { name: "ok", agentType: "", description: "", content: "b" },
      { name: "empty", agentType: "", description: "", content: "" },
    ],
    groups: [{ name: "-dash", description: "", tags: [], configs: [] }],
  }));
  t.is(problems.length, 4);
  t.regex(problems[0] as string, /Invalid config name "has space"/);
  t.regex(problems[1] as string, /lists config "ok" twice/);
  t.regex(problems[2] as string, /Invalid agent group name "-dash"/);
  t.regex(problems[3] as string, /Config "empty" has no content/);
  t.deepEqual(importProblems(source({ configs: [{ name: "a.b_c-1", agentType: "", description: "", content: "x" }] })), []);
});

test("new, changed and unchanged; other files untouched; a replaced group keeps its instance configs", (t) => {
  const state = new RepoState("abc", 4, 0, [rec("same", "s"), rec("old", "before"), rec("mine", "m")], [
    { name: "web", description: "", tags: [{ name: "env", value: "prod" }], configs: ["mine"], instanceConfigs: ["loong"] },
  ], [{ name: "loong", description: "", content: "{}", version: 2, commit: "c2" }]);
  const plan = planImport(state, source({
    configs: [
      { name: "old", agentType: "", description: "", content: "after" },
      { name: "same", agentType: "", description: "", content: "s" },
      { name: "fresh", agentType: "iLogtail", description: "d", content: "f" },
    ],
    groups: [
      { name: "web", description: "", tags: [{ name: "env", value: "prod" }], configs: ["old", "mine", "ghost", "old"] },
      { name: "default", description: "Default agent group, include all Agents.", tags: [], configs: [] },
    ],
  }));
  t.deepEqual(plan.entries.map((e) => [e.kind, e.name, e.outcome]), [
    ["config", "fresh", "new"],
    ["config", "old", "changed"],
    ["config", "same", "unchanged"],
    ["agent group", "default", "unchanged"],
    ["agent group", "web", "changed"],
  ]);
  t.deepEqual(plan.changes.map((c) => (c.kind === "putConfig" ? c.config.name : c.kind === "putGroup" ? c.group : c.kind)), [
    "fresh",
    "old",
    { name: "web", description: "", tags: [{ name: "env", value: "prod" }], configs: ["mine", "old"], instanceConfigs: ["loong"] },
  ]);
  t.is(plan.bindings, 2);
  t.deepEqual(plan.dangling, [{ group: "web", config: "ghost" }]);
  t.is(plan.message, "Import 3 configs, 2 agent groups and 2 bindings from the v1 ConfigServer at http://old (3 of 5 files written)");
});

test("importing what the repository already has plans no change", (t) => {
  const state = new RepoState("abc", 1, 0, [rec("a", "x")], [{ name: "g", description: "", tags: [], configs: ["a"] }]);
  const plan = planImport(state, source({ configs: [{ name: "a", agentType: "", description: "", content: "x" }], groups: [{ name: "g", description: "", tags: [], configs: ["a"] }] }));
  t.deepEqual(plan.changes, []);
  t.is(plan.message, "Import 1 config, 1 agent group and 1 binding from the v1 ConfigServer at http://old (0 of 2 files written)");
});
