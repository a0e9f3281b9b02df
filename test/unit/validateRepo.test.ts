import test from "ava";
import type { ConfigFile, GroupFile } from "../../src/domain/validateRepo.ts";
import { validateRepo } from "../../src/domain/validateRepo.ts";

const at = { line: 1, column: 14 };
const config = (stem: string, name = stem): ConfigFile => ({ file: `configs/${stem}.yaml`, stem, namePos: at, spec: { name, agentType: "", description: "", content: "x" } });
const group = (stem: string, refs: string[] = [], name = stem): GroupFile => ({
  file: `agent_groups/${stem}.yaml`,
  stem,
  namePos: at,
  spec: { name, description: "", tags: [], configs: [...new Set(refs)].sort() },
  configRefs: refs.map((r, i) => ({ name: r, pos: { line: 5 + i, column: 5 } })),
});
const messages = (configs: ConfigFile[], groups: GroupFile[], unreadable?: Set<string>) =>
  validateRepo(configs, groups, unreadable).map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);

test("a consistent repository has no problems", (t) => {
  t.deepEqual(messages([config("a"), config("b")], [group("g", ["a", "b"]), group("default", ["a"])]), []);
  t.deepEqual(messages([], []), []);
});

test("a name that breaks the rule is reported with the rule", (t) => {
  t.deepEqual(messages([config("x", ".hidden")], []), [
    `configs/x.yaml:1:14: Invalid config name ".hidden": a name must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ (start with a letter or digit; then letters, digits, '.', '_' or '-'; at most 128 characters).`,
  ]);
  t.regex(messages([], [group("g", [], "a b")])[0] ?? "", /^agent_groups\/g\.yaml:1:14: Invalid agent group name "a b"/);
});

test("a name that differs from its file's stem says how to fix it", (t) => {
  t.deepEqual(messages([config("a", "b")], []), [
    'configs/a.yaml:1:14: config_name "b" does not match the file name: rename the file to configs/b.yaml or set config_name: a',
  ]);
  t.deepEqual(messages([], [group("a", [], "B")]), [
    'agent_groups/a.yaml:1:14: group_name "B" does not match the file name: rename the file to agent_groups/B.yaml or set group_name: a',
  ]);
});

test("duplicate names are reported where the second one stands", (t) => {
  const problems = messages([config("a"), config("b", "a")], []);
  t.true(problems.includes('configs/b.yaml:1:14: duplicate config name "a": also defined in configs/a.yaml'), problems.join("\n"));
});

test("a group naming a missing config, or one config twice", (t) => {
  t.deepEqual(messages([config("a")], [group("g", ["a", "nope", "a"])]), [
    'agent_groups/g.yaml:6:5: agent group "g" applies config "nope", which does not exist: add configs/nope.yaml or remove the entry',
    'agent_groups/g.yaml:7:5: config "a" is listed twice in configs: remove one entry',
  ]);
});

test("a config that exists but did not parse is not also called missing", (t) => {
  t.deepEqual(messages([], [group("g", ["broken"])], new Set(["broken"])), []);
});

test("an empty name is left to the missing-field report", (t) => {
  t.deepEqual(messages([config("a", "")], [group("g", [], "")]), []);
});

test("problems are sorted by file, then line, then column", (t) => {
  const problems = validateRepo([config("z", "y"), config("b", "c")], [group("g", ["m1", "m2"])]);
  const keys = problems.map((p) => [p.file, p.line, p.column]);
  t.deepEqual(keys, [["agent_groups/g.yaml", 5, 5], ["agent_groups/g.yaml", 6, 5], ["configs/b.yaml", 1, 14], ["configs/z.yaml", 1, 14]]);
});
