import test from "ava";
import type { ConfigSpec, GroupSpec } from "../../src/domain/types.ts";
import { closestName } from "../../src/store/yaml/closestName.ts";
import { parseConfigFile, parseGroupFile, parseInstanceConfigFile } from "../../src/store/yaml/parseFiles.ts";
import { renderConfig, renderGroup } from "../../src/store/yaml/renderFiles.ts";

function roundTripConfig(spec: ConfigSpec, previous?: string): { text: string; back: ConfigSpec | undefined; problems: string[] } {
  const text = renderConfig(spec, previous);
  const parsed = parseConfigFile("configs/x.yaml", text);
  return { text, back: parsed.value?.spec, problems: parsed.problems.map((p) => p.message) };
}

const contents = [
  "a: 1\n", "no final newline", "tabs\there\n\tand here\n", "trailing   \nspaces  \n", "crlf\r\nline\r\n", "cr only\r",
  " leading space\n", "\n\nleading empty lines\n", "empty lines at the end\n\n\n", "\n", " ", "\t", "   \n  \n",
  "日本語 ✓ 🎉\n", "---\n...\n", "# comment\n", "key: 'q' \"dq\" # c\n", "- a\n- b\n", "{a: b}", "[1, 2]", "true", "null", "~", "123", "0o17", "1e3",
  "\\ backslash \\n\n", "\x00nul", "\x07bell\x1b[0m\x7f", "nel\u0085", "ls\u2028ps\u2029", "\ufeffbom first", "zero\u200bwidth",
  "    indented more first\n  then less\n", "|\n>\n", "%YAML 1.2\n", "@at `tick` !tag &anchor *alias ? key\n", "x".repeat(5000),
  "a\n \n", "ends with space ", "ends with tab\t", "ends with cr lf\r\n\r\n", "mixed\n\r\n\r",
];

test("renderConfig / parseConfigFile round-trip tricky contents exactly", (t) => {
  for (const content of contents) {
    const spec = { name: "x", agentType: "ilogtail", description: "d", content };
    const r = roundTripConfig(spec);
    t.deepEqual(r.problems, [], JSON.stringify(content));
    t.deepEqual(r.back, spec, JSON.stringify(content));
  }
});

test("multi-line contents that YAML can hold literally are written as block scalars", (t) => {
  const text = renderConfig({ name: "x", agentType: "", description: "", content: "enable: true\ninputs:\n  - Type: input_file\n" });
  t.true(text.includes("content: |\n  enable: true\n  inputs:\n    - Type: input_file\n"), text);
});

test("agent_type and description that look like other YAML types round-trip", (t) => {
  for (const v of ["", "true", "False", "NULL", "~", "0x1F", "0o7", "1_000", ".inf", "-.5", "yes", "on", " padded ", "a: b", "# x", "- x", "multi\nline", "crlf\r\n", "\t", "'", '"', "@", "`", "%", "!x", "&a", "*a", "|", ">"]) {
    const spec = { name: "x", agentType: v, description: v, content: "c" };
    const r = roundTripConfig(spec);
    t.deepEqual(r.problems, [], JSON.stringify(v));
    t.deepEqual(r.back, spec, JSON.stringify(v));
  }
});

test("config names that look like numbers or booleans stay strings", (t) => {
  for (const name of ["1", "0x10", "0o7", "1e3", "1.5", "true", "TRUE", "False", "null", "Null", "NaN", "yes", "1_000"]) {
    const spec = { name, agentType: "", description: "", content: "c" };
    t.deepEqual(roundTripConfig(spec).back, spec, name);
  }
});

/** A small deterministic PRNG: the same "random" cases on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const alphabet = [" ", " ", "\t", "\n", "\n", "\r", "a", "b", ":", "#", "-", "'", '"', "\\", "|", ">", "é", "😀", "\u2028", "\x00", "\x85", "{", "}", "[", "]", ",", "&", "*", "!", "%", "@", "`", "?", "~", "0", "."];

/** Strings of at least `min` characters drawn from the alphabet above. */
const randomStrings = (random: () => number) => (min: number) => {
  const n = min + Math.floor(random() * 24);
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
};

test("renderConfig round-trips random strings, also when editing a previous file", (t) => {
  const str = randomStrings(prng(42));
  let previous: string | undefined;
  for (let i = 0; i < 400; i++) {
    const spec = { name: "x", agentType: str(0), description: str(0), content: str(1) };
    const r = roundTripConfig(spec, previous);
    if (r.problems.length > 0 || JSON.stringify(r.back) !== JSON.stringify(spec)) {
      t.fail(`case ${i}: ${JSON.stringify(spec)} became ${JSON.stringify(r.back)} ${r.problems.join("; ")}\n${r.text}`);
      return;
    }
    previous = i % 2 === 0 ? r.text : undefined;
  }
  t.pass();
});

test("renderGroup round-trips random descriptions and tags, also when editing a previous file", (t) => {
  const str = randomStrings(prng(7));
  let previous: string | undefined;
  for (let i = 0; i < 300; i++) {
    const spec: GroupSpec = { name: "g", description: str(0), tags: [{ name: str(1), value: str(0) }, { name: str(1), value: str(0) }], configs: ["a", "b"] };
    const text = renderGroup(spec, previous);
    const parsed = parseGroupFile("agent_groups/g.yaml", text);
    if (parsed.problems.length > 0 || JSON.stringify(parsed.value?.spec) !== JSON.stringify(spec)) {
      t.fail(`case ${i}: ${JSON.stringify(spec)} became ${JSON.stringify(parsed.value?.spec)} ${parsed.problems.map((p) => p.message).join("; ")}\n${text}`);
      return;
    }
    previous = i % 2 === 0 ? text : undefined;
  }
  t.pass();
});

test("a line holding only spaces inside a long quoted string survives (yaml 2.9 folding bug)", (t) => {
  const v = "\tstarts with a tab so it must be quoted\n \nand is longer than forty characters";
  const spec = { name: "x", agentType: v, description: v, content: `${v}\x00` };
  t.deepEqual(roundTripConfig(spec).back, spec);
  const group: GroupSpec = { name: "g", description: v, tags: [{ name: "k", value: v }], configs: [] };
  t.deepEqual(parseGroupFile("f", renderGroup(group)).value?.spec, group);
});

test("editing a config keeps a person's comments", (t) => {
  const previous = "# owned by team-a\nconfig_name: x # the name\nagent_type: ilogtail\ndescription: old\ncontent: |\n  a: 1\n";
  const text = renderConfig({ name: "x", agentType: "ilogtail", description: "new", content: "a: 2\n" }, previous);
  t.true(text.startsWith("# owned by team-a\n"), text);
  t.true(text.includes("# the name"), text);
  t.deepEqual(parseConfigFile("f", text).value?.spec, { name: "x", agentType: "ilogtail", description: "new", content: "a: 2\n" });
});

test("renderGroup / parseGroupFile round-trip, with tricky tag values and config names", (t) => {
  const groups: GroupSpec[] = [
    { name: "g", description: "", tags: [], configs: [] },
    { name: "1", description: "true", tags: [{ name: "env", value: "" }, { name: "n", value: "123" }, { name: "b", value: "false" }, { name: "z", value: "~" }], configs: ["0x10", "1e3", "a", "null", "true"] },
    { name: "web", description: "multi\nline\n", tags: [{ name: "k: v", value: "# not a comment" }, { name: " sp ", value: "\t" }, { name: "unicode", value: "日本" }], configs: ["nginx-access"] },
  ];
  for (const spec of groups) {
    const text = renderGroup(spec);
    const parsed = parseGroupFile("agent_groups/g.yaml", text);
    t.deepEqual(parsed.problems, [], text);
    t.deepEqual(parsed.value?.spec, spec, text);
  }
});

test("editing a group keeps comments and applies the new fields", (t) => {
  const previous = "# who owns this group\ngroup_name: web\ndescription: front ends\ntags:\n  - name: role # the selector\n    value: web\nconfigs:\n  - a\n";
  const spec: GroupSpec = { name: "web", description: "front ends", tags: [{ name: "role", value: "web" }], configs: ["a", "b"] };
  const text = renderGroup(spec, previous);
  t.true(text.startsWith("# who owns this group\n"), text);
  t.deepEqual(parseGroupFile("f", text).value?.spec, spec);
});

test("parse problems carry the file and a position", (t) => {
  const r = parseConfigFile("configs/bad.yaml", "config_name: bad\ncontent: [unclosed\n");
  t.true(r.problems.length > 0);
  t.is(r.problems[0]?.file, "configs/bad.yaml");
  t.true((r.problems[0]?.line ?? 0) >= 2);
  const missing = parseConfigFile("configs/m.yaml", "config_name: m\n");
  t.deepEqual(missing.problems.map((p) => p.line), [1]);
  t.regex(missing.problems[0]?.message ?? "", /content/);
  const empty = parseConfigFile("configs/e.yaml", "config_name: e\ncontent: \"\"\n");
  t.regex(empty.problems[0]?.message ?? "", /content/);
  const typed = parseGroupFile("agent_groups/t.yaml", "group_name: t\ntags:\n  - name: n\n    value: 1\n");
  t.regex(typed.problems[0]?.message ?? "", /string/);
  t.is(typed.problems[0]?.line, 4);
});

test("configs and instance configs are read by one parser: the same fields, checks and places; agent_type only in a config", (t) => {
  const body = "config_name: c\ndescription: d\nformat: json\ncontent: |\n  {\"a\": 1}\n";
  const config = parseConfigFile("configs/c.yaml", "agent_type: LoongCollector\n" + body);
  const instance = parseInstanceConfigFile("instance_configs/c.yaml", body);
  t.deepEqual(config.problems, []);
  t.deepEqual(instance.problems, []);
  t.deepEqual(config.value?.spec, { name: "c", agentType: "LoongCollector", description: "d", content: '{"a": 1}\n', format: "json" });
  t.deepEqual(instance.value?.spec, { name: "c", description: "d", content: '{"a": 1}\n', format: "json" });
  t.deepEqual(instance.value?.contentPlace, { pos: { line: 4, column: 10 }, block: { line: 5, indent: 2 } });
  t.deepEqual(config.value?.contentPlace, { pos: { line: 5, column: 10 }, block: { line: 6, indent: 2 } });
  const typo = parseInstanceConfigFile("instance_configs/c.yaml", "agent_type: x\n" + body);
  t.regex(typo.problems[0]?.message ?? "", /^unknown field "agent_type": remove it; allowed fields: config_name, description, content, format, rollout$/);
  for (const parse of [parseConfigFile, parseInstanceConfigFile]) {
    t.regex(parse("f.yaml", "config_name: c\ncontent: \"\"\n").problems[0]?.message ?? "", /"content" must not be empty/);
    t.regex(parse("f.yaml", "config_name: c\ncontent: x\nformat: toml\n").problems[0]?.message ?? "", /"format" must be one of/);
  }
});

test("a misspelt field is answered with the closest allowed one, when it is close", (t) => {
  const allowed = ["config_name", "agent_type", "description", "content", "format"];
  t.is(closestName("descripton", allowed), "description");
  t.is(closestName("Content", allowed), "content");
  t.is(closestName("colour", allowed), undefined);
  t.regex(parseConfigFile("c.yaml", "config_name: c\ncontent: x\nfromat: yaml\n").problems[0]?.message ?? "", /did you mean "format"\?/);
});
