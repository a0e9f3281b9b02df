import test from "ava";
import { contentFormat } from "../../src/domain/contentFormat.ts";
import { contentChecker } from "../../src/store/contentCheck.ts";
import { DEFAULTS } from "../../src/settings/options.ts";
import { parseConfigFile } from "../../src/store/yaml/parseFiles.ts";
import { renderConfig } from "../../src/store/yaml/renderFiles.ts";

const checkContent = contentChecker({ maxConfigSize: DEFAULTS.maxConfigSize, secrets: DEFAULTS.secrets });

test("content that starts like a mapping or a JSON object is meant as a pipeline; anything else is text", (t) => {
  const yaml = ["enable: true\n", "inputs:\n  - Type: x\n", "{", '{"a": 1}', "  indented: 1", '"quoted key": 1', "'single': 1", "key:", "key:\tvalue", "# comment\n\nenable: true", "---\nenable: true", "%YAML 1.2\n---\na: 1", "Note: see wiki: http://x", "crlf: 1\r\n"];
  const text = ["", "hello", "hello world\nkey: value", "x:y", "http://example.com", "- a\n- b", "[1, 2]", "# only a comment", "---\n...\n"];
  for (const c of yaml) t.is(contentFormat(c), "yaml", JSON.stringify(c));
  for (const c of text) t.is(contentFormat(c), "text", JSON.stringify(c));
  // "a : b" is a YAML key too (spaces before the colon are allowed).
  t.is(contentFormat("a : b"), "yaml");
  t.is(contentFormat("enable: true", "text"), "text", "a declared format wins");
  t.is(contentFormat("hello", "json"), "json");
});

test("checkContent: problems with the content's line and column; declared formats are strict", (t) => {
  t.is(checkContent("enable: true\n", undefined), undefined);
  t.is(checkContent("plain text: with: colons", "text"), undefined);
  t.like(checkContent("a: 1\nb: [\n", undefined), { line: 3, column: 1 });
  t.like(checkContent("a: 1\na: 2\n", undefined), { line: 2, column: 1, message: "it starts like a pipeline (a YAML or JSON mapping) but is not valid YAML: Map keys must be unique" });
  t.like(checkContent('{"a":1,\n"b" 2}', "json"), { line: 2, column: 5 });
  t.like(checkContent("[1]", "json"), { message: "its file declares format: json but is not a JSON object" });
  t.like(checkContent("- a\n", "yaml"), { line: 1, column: 1, message: 'its file declares format: yaml but is not a mapping: a pipeline is "key: value" lines or a JSON object' });
  t.is(checkContent('{"a": 1}', "yaml"), undefined);
});

test("format: is read, written back and kept when the file is edited", (t) => {
  const spec = { name: "x", agentType: "", description: "", content: "a: b: c\n", format: "text" as const };
  const text = renderConfig(spec);
  t.regex(text, /^format: text$/m);
  t.deepEqual(parseConfigFile("configs/x.yaml", text).value?.spec, spec);
  const { format: _, ...without } = spec;
  t.notRegex(renderConfig(without, text), /format:/);
  t.deepEqual(parseConfigFile("configs/x.yaml", "config_name: x\ncontent: y\nformat: csv\n").problems.map((p) => `${p.line}:${p.column} ${p.message}`), ['3:9 field "format" must be one of yaml, json, text (how the content is checked), got "csv"']);
});

// Internal: the scans that replaced two regular expressions (which backtracked quadratically on a
// line of spaces) decide every line as they did. Every line of up to 5 characters over an
// alphabet of the characters that matter is compared with the old patterns.
test("the linear line scans decide every short line as the patterns they replaced", (t) => {
  const KEY_LINE = /^[ \t]*(?:"[^"]*"|'[^']*'|[^\s\-?:,[\]{}#&*!|>'"%@`][^\n]*?)[ \t]*:(?:[ \t]|$)/;
  const NEUTRAL = /^[ \t]*(#.*)?$|^%|^(---|\.\.\.)[ \t]*$/;
  const alphabet = ["a", " ", "\t", ":", '"', "'", "-", "#", "%", ".", "{", "\u00a0"];
  let lines = [""];
  let checked = 0;
  for (let length = 0; length <= 5; length++) {
    for (const line of lines) {
      const old = NEUTRAL.test(line) ? "neutral" : line.trimStart().startsWith("{") || KEY_LINE.test(line) ? "yaml" : "text";
      // A neutral line lets the next decide: "b: 1" makes it yaml.
      const expected = old === "neutral" ? "yaml" : old;
      if (contentFormat(`${line}\nb: 1`) !== expected) t.fail(`${JSON.stringify(line)}: expected ${expected}`);
      checked++;
    }
    lines = lines.flatMap((l) => alphabet.map((c) => l + c));
  }
  t.true(checked > 250_000);
});
