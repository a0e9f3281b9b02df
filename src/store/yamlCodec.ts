import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node, type Pair } from "yaml";
import { CONTENT_FORMATS, isContentFormat, type ContentFormat } from "../domain/contentFormat.ts";
import type { ParsedConfigFile, ParsedGroupFile } from "../domain/fileCheck.ts";
import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import type { ConfigSpec, GroupSpec, InstanceConfigSpec, Pos, Problem, Tag } from "../domain/types.ts";
import { readPolicy } from "./rolloutCodec.ts";
import { readHostnames, readIps } from "./selectorCodec.ts";

/**
 * Where a config's content stands in its file, to place a problem found inside the content.
 * `block` is set for a literal block (`content: |`), whose lines are the file's lines one for one:
 * content line L, column C is file line `block.line + L - 1`, column `block.indent + C`. Other
 * styles (quoted, folded) have no such mapping: their problems stand at `pos`.
 */
export interface ContentPlace {
  readonly pos: Pos;
  readonly block?: { readonly line: number; readonly indent: number };
}

/** What the domain's file checks read (domain/fileCheck.ts), and where the content stands. */
export interface ParsedConfig extends ParsedConfigFile {
  /** Where the content's value starts, for problems and warnings about what it holds. */
  readonly contentPos: Pos;
  readonly contentPlace: ContentPlace;
}

export interface ParsedInstanceConfig {
  readonly spec: InstanceConfigSpec;
  readonly namePos: Pos;
  readonly contentPos: Pos;
  readonly contentPlace: ContentPlace;
}

export type ParsedGroup = ParsedGroupFile;

type Parsed<T> = { readonly value?: T; readonly problems: Problem[] };

const CONFIG_FIELDS = ["config_name", "agent_type", "description", "content", "format", "rollout"];
const INSTANCE_CONFIG_FIELDS = ["config_name", "description", "content", "format", "rollout"];
const GROUP_FIELDS = ["group_name", "description", "tags", "ips", "hostnames", "configs", "instance_configs"];

class FileReader {
  readonly problems: Problem[] = [];
  private readonly lines = new LineCounter();
  readonly doc;

  constructor(
    readonly file: string,
    private readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, strict: true });
    for (const e of this.doc.errors) {
      // prettyErrors is off, so linePos is unset: place the error from its offset ourselves.
      const p = this.lines.linePos(e.pos[0]);
      this.problems.push({ file, line: p.line, column: p.col, message: `YAML syntax error: ${firstLine(e.message)}${syntaxHint(e.code, text, e.pos[0])}` });
    }
  }

  pos(node: Node | null | undefined): Pos {
    const offset = node?.range?.[0] ?? 0;
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  problem(at: Pos, message: string): void {
    this.problems.push({ file: this.file, line: at.line, column: at.column, message });
  }

  /** The top-level mapping, its unknown keys reported. */
  fields(allowed: readonly string[]): Map<string, Pair<unknown, unknown>> | undefined {
    if (this.doc.errors.length > 0) return undefined;
    const root = this.doc.contents;
    if (!isMap(root)) {
      this.problem(this.pos(root), "the file must be a YAML mapping with the fields " + allowed.join(", "));
      return undefined;
    }
    const out = new Map<string, Pair<unknown, unknown>>();
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!allowed.includes(key)) {
        const guess = closest(key, allowed);
        const fix = guess ? `did you mean "${guess}"? ` : "remove it; ";
        this.problem(this.pos(pair.key as Node), `unknown field ${JSON.stringify(key)}: ${fix}allowed fields: ${allowed.join(", ")}`);
        continue;
      }
      out.set(key, pair);
    }
    return out;
  }

  string(fields: Map<string, Pair<unknown, unknown>>, key: string, required: boolean): { value: string; pos: Pos } {
    const pair = fields.get(key);
    const at = this.pos((pair?.value ?? pair?.key ?? this.doc.contents) as Node);
    if (!pair || pair.value == null || (isScalar(pair.value) && pair.value.value == null)) {
      if (required) this.problem(at, `missing required field ${JSON.stringify(key)}: add a line "${key}: ${key === "content" ? "|" : "<value>"}"${key === "content" ? " followed by the pipeline text, indented" : ""}`);
      return { value: "", pos: at };
    }
    if (!isScalar(pair.value) || typeof pair.value.value !== "string") {
      this.problem(at, `field ${JSON.stringify(key)} must be a string (quote it if it looks like a number or boolean)`);
      return { value: "", pos: at };
    }
    return { value: pair.value.value, pos: at };
  }

  /** The optional `format:` field: one of CONTENT_FORMATS. */
  format(fields: Map<string, Pair<unknown, unknown>>): ContentFormat | undefined {
    if (!fields.has("format")) return undefined;
    const f = this.string(fields, "format", false);
    if (f.value === "" || isContentFormat(f.value)) return f.value === "" ? undefined : f.value;
    this.problem(f.pos, `field "format" must be one of ${CONTENT_FORMATS.join(", ")} (how the content is checked), got ${JSON.stringify(f.value)}`);
    return undefined;
  }

  /** Where the content's value is; for a literal block, how its lines map to the file's. */
  place(fields: Map<string, Pair<unknown, unknown>>, pos: Pos): ContentPlace {
    const value = fields.get("content")?.value;
    if (!isScalar(value) || value.type !== Scalar.BLOCK_LITERAL || typeof value.value !== "string" || !value.range) return { pos };
    // The value starts at the "|" header; the content's first line is the next line of the file.
    const line = this.lines.linePos(value.range[0]).line + 1;
    const source = this.text.split("\n");
    const content = value.value.split("\n");
    const first = content.findIndex((l) => l !== "");
    if (first < 0) return { pos };
    const src = (source[line - 1 + first] ?? "").replace(/\r$/, "");
    const indent = src.length - (content[first] as string).length;
    return indent >= 0 && src.endsWith(content[first] as string) ? { pos, block: { line, indent } } : { pos };
  }

  list(fields: Map<string, Pair<unknown, unknown>>, key: string): Node[] {
    const pair = fields.get(key);
    if (!pair || pair.value == null || (isScalar(pair.value) && pair.value.value == null)) return [];
    if (!isSeq(pair.value)) {
      this.problem(this.pos(pair.value as Node), `field ${JSON.stringify(key)} must be a list`);
      return [];
    }
    return pair.value.items as Node[];
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

/** How to fix the syntax errors people actually make in these files. */
function syntaxHint(code: string, text: string, offset: number): string {
  switch (code) {
    case "DUPLICATE_KEY": {
      const key = /^[^:\n]*/.exec(text.slice(offset))?.[0].trim();
      return ` (${key ? `"${key}"` : "this key"} appears twice in the same mapping: keep one)`;
    }
    case "TAB_AS_INDENT":
      return " (indent with spaces, not tabs)";
    case "BLOCK_AS_IMPLICIT_KEY":
    case "BAD_INDENT":
    case "MISSING_CHAR":
    case "UNEXPECTED_TOKEN":
      return " (check the indentation here: every line of a block such as content: | must be indented more than its key, and quotes and brackets must be closed)";
    default:
      return "";
  }
}

/** The allowed field closest to a misspelt one, to suggest it. */
function closest(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const a of allowed) {
    const d = editDistance(word.toLowerCase(), a);
    if (d < bestDistance) [best, bestDistance] = [a, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

export function parseConfigFile(file: string, text: string): Parsed<ParsedConfig> {
  const r = new FileReader(file, text);
  const f = r.fields(CONFIG_FIELDS);
  if (!f) return { problems: r.problems };
  const name = r.string(f, "config_name", true);
  const agentType = r.string(f, "agent_type", false);
  const description = r.string(f, "description", false);
  const content = r.string(f, "content", true);
  if (f.has("content") && content.value === "" && r.problems.length === 0) r.problem(content.pos, 'field "content" must not be empty');
  const format = r.format(f);
  const rollout = configRollout(r, f, file);
  const spec: ConfigSpec = { name: name.value, agentType: agentType.value, description: description.value, content: content.value, ...(format ? { format } : {}), ...(rollout ? { rollout } : {}) };
  return { value: { spec, namePos: name.pos, contentPos: content.pos, contentPlace: r.place(f, content.pos) }, problems: r.problems };
}

export function parseInstanceConfigFile(file: string, text: string): Parsed<ParsedInstanceConfig> {
  const r = new FileReader(file, text);
  const f = r.fields(INSTANCE_CONFIG_FIELDS);
  if (!f) return { problems: r.problems };
  const name = r.string(f, "config_name", true);
  const description = r.string(f, "description", false);
  const content = r.string(f, "content", true);
  if (f.has("content") && content.value === "" && r.problems.length === 0) r.problem(content.pos, 'field "content" must not be empty');
  const format = r.format(f);
  const rollout = configRollout(r, f, file);
  const spec: InstanceConfigSpec = { name: name.value, description: description.value, content: content.value, ...(format ? { format } : {}), ...(rollout ? { rollout } : {}) };
  return { value: { spec, namePos: name.pos, contentPos: content.pos, contentPlace: r.place(f, content.pos) }, problems: r.problems };
}

/** A config file's own rollout policy (`rollout:`), which replaces the repository's for that config. */
function configRollout(r: FileReader, f: Map<string, Pair<unknown, unknown>>, file: string): RolloutPolicy | undefined {
  const pair = f.get("rollout");
  return pair ? readPolicy(r, pair.value ?? pair.key, file, 'field "rollout"') : undefined;
}

/** `rollout.yaml` at the repository's root: the rollout policy of every config without its own. */
export function parseRolloutFile(file: string, text: string): Parsed<RolloutPolicy> {
  const r = new FileReader(file, text);
  if (r.doc.errors.length > 0) return { problems: r.problems };
  if (r.doc.contents == null || (isScalar(r.doc.contents) && r.doc.contents.value == null)) {
    r.problem({ line: 1, column: 1 }, `${file} is empty: write a policy such as "waves: [1%, 10%, 100%]", or delete the file to send changes to every agent at once`);
    return { problems: r.problems };
  }
  const value = readPolicy(r, r.doc.contents, file, file);
  return value && r.problems.length === 0 ? { value, problems: [] } : { problems: r.problems };
}

export function parseGroupFile(file: string, text: string): Parsed<ParsedGroup> {
  const r = new FileReader(file, text);
  const f = r.fields(GROUP_FIELDS);
  if (!f) return { problems: r.problems };
  const name = r.string(f, "group_name", true);
  const description = r.string(f, "description", false);
  const tags: Tag[] = [];
  for (const item of r.list(f, "tags")) {
    const at = r.pos(item);
    if (!isMap(item)) {
      r.problem(at, "each tag must be a mapping {name: ..., value: ...}");
      continue;
    }
    const tag: Record<string, string> = { name: "", value: "" };
    for (const pair of item.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : "";
      if (k !== "name" && k !== "value") {
        r.problem(r.pos(pair.key as Node), `unknown tag field ${JSON.stringify(k)}; a tag has "name" and "value"`);
      } else if (!isScalar(pair.value) || typeof pair.value.value !== "string") {
        r.problem(r.pos((pair.value ?? pair.key) as Node), `tag ${k} must be a string (quote it if it looks like a number or boolean)`);
      } else tag[k] = pair.value.value;
    }
    if (tag.name === "") r.problem(at, 'a tag needs a non-empty "name"');
    tags.push({ name: tag.name ?? "", value: tag.value ?? "" });
  }
  const refs = (key: string, what: string) => {
    const out: { name: string; pos: Pos }[] = [];
    for (const item of r.list(f, key)) {
      if (!isScalar(item) || typeof item.value !== "string") {
        r.problem(r.pos(item), `each entry of ${key} must be ${what} name (a string)`);
        continue;
      }
      out.push({ name: item.value, pos: r.pos(item) });
    }
    return out;
  };
  const ips = f.has("ips") ? readIps(r, f.get("ips")?.value) : undefined;
  const hostnames = f.has("hostnames") ? readHostnames(r, f.get("hostnames")?.value) : undefined;
  const configRefs = refs("configs", "a config");
  const instanceRefs = refs("instance_configs", "an instance config");
  const configs = [...new Set(configRefs.map((c) => c.name))].sort();
  const spec: GroupSpec = { name: name.value, description: description.value, tags, configs, ...(ips?.length ? { ips } : {}), ...(hostnames?.length ? { hostnames } : {}) };
  if (f.has("instance_configs")) Object.assign(spec, { instanceConfigs: [...new Set(instanceRefs.map((c) => c.name))].sort() });
  return { value: { spec, namePos: name.pos, configRefs, instanceRefs }, problems: r.problems };
}

function stringNode(value: string, quoted = false): Scalar {
  const node = new Scalar(value);
  if (quoted) node.type = Scalar.QUOTE_DOUBLE;
  // Multi-line text reads best in a PR diff as a literal block; yaml picks indentation and chomping.
  else if (value.includes("\n")) node.type = Scalar.BLOCK_LITERAL;
  return node;
}

// yaml 2.9 folds long double-quoted strings over several lines and gets a line holding only
// spaces wrong ("a\n \nb" comes back as "a\n\\\nb"): double-quoted strings stay on one line.
const TO_STRING = { lineWidth: 0, doubleQuotedMinMultiLineLength: Number.MAX_SAFE_INTEGER } as const;

/**
 * The readable rendering when it parses back to exactly `wanted`, else the all-double-quoted one;
 * a file that would not read back as written is never returned.
 */
function render<T>(build: (quoted: boolean) => Document, parse: (text: string) => T | undefined, wanted: T, what: string): string {
  const same = (text: string) => JSON.stringify(parse(text)) === JSON.stringify(wanted);
  const readable = build(false).toString(TO_STRING);
  if (same(readable)) return readable;
  const quoted = build(true).toString(TO_STRING);
  if (same(quoted)) return quoted;
  throw new Error(`cannot write ${what} as YAML that reads back exactly`);
}

/** YAML for a config; the content must come back byte for byte, so the result is checked. */
export function renderConfig(spec: ConfigSpec, previous?: string): string {
  const build = (quoted: boolean) => {
    const doc = editable(previous) ?? new Document({});
    doc.set("config_name", spec.name);
    doc.set("agent_type", quoted ? stringNode(spec.agentType, true) : spec.agentType);
    doc.set("description", quoted ? stringNode(spec.description, true) : spec.description);
    doc.set("content", stringNode(spec.content, quoted));
    // The User API cannot say a format: a file's declared one is kept (userOps carries it over).
    if (spec.format !== undefined) doc.set("format", spec.format);
    else doc.delete("format");
    return doc;
  };
  const parse = (text: string) => {
    const back = parseConfigFile("", text);
    if (back.problems.length > 0 || !back.value) return undefined;
    // The User API cannot say a rollout policy: the file's `rollout:` is kept as written, not compared.
    const { rollout: _kept, ...spec } = back.value.spec;
    return spec;
  };
  const wanted: ConfigSpec = { name: spec.name, agentType: spec.agentType, description: spec.description, content: spec.content, ...(spec.format ? { format: spec.format } : {}) };
  return render(build, parse, wanted, `config ${spec.name}`);
}

/** YAML for a group; comments and layout of an existing file are kept where the fields allow. */
export function renderGroup(spec: GroupSpec, previous?: string): string {
  const build = (quoted: boolean) => {
    const doc = editable(previous) ?? new Document({});
    const str = (v: string) => (quoted ? stringNode(v, true) : v);
    doc.set("group_name", spec.name);
    doc.set("description", str(spec.description));
    doc.set("tags", doc.createNode(spec.tags.map((t) => ({ name: str(t.name), value: str(t.value) }))));
    doc.set("configs", doc.createNode([...spec.configs]));
    // Instance configs are bound by people in the file; the User API keeps what is there.
    if (spec.instanceConfigs !== undefined) doc.set("instance_configs", doc.createNode([...spec.instanceConfigs]));
    else doc.delete("instance_configs");
    // Address and host name selectors are written by people in the file; the User API keeps them.
    if (spec.ips !== undefined) doc.set("ips", doc.createNode(spec.ips.map((i) => i.text)));
    else doc.delete("ips");
    if (spec.hostnames !== undefined) doc.set("hostnames", doc.createNode([...spec.hostnames]));
    else doc.delete("hostnames");
    return doc;
  };
  const parse = (text: string) => {
    const back = parseGroupFile("", text);
    return back.problems.length === 0 ? back.value?.spec : undefined;
  };
  const wanted: GroupSpec = { name: spec.name, description: spec.description, tags: spec.tags.map((t) => ({ name: t.name, value: t.value })), configs: [...new Set(spec.configs)].sort() };
  if (spec.ips?.length) Object.assign(wanted, { ips: spec.ips });
  if (spec.hostnames?.length) Object.assign(wanted, { hostnames: spec.hostnames });
  if (spec.instanceConfigs !== undefined) Object.assign(wanted, { instanceConfigs: [...new Set(spec.instanceConfigs)].sort() });
  return render(build, parse, wanted, `agent group ${spec.name}`);
}

/** An existing file's document to edit in place, when it parses cleanly. */
function editable(previous: string | undefined): Document | undefined {
  if (previous === undefined) return undefined;
  const doc = parseDocument(previous);
  return doc.errors.length === 0 && isMap(doc.contents) ? doc : undefined;
}

/**
 * A config's content as the JSON object text agents that take pipelines as JSON (protocol v2)
 * receive: the content itself when it already is a JSON object (passed through byte for byte),
 * else its YAML mapping converted. Anything that is not a mapping is a problem, said in words.
 */
export function pipelineJson(content: string): { readonly json: string } | { readonly problem: string } {
  const trimmed = content.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(content);
      if (value !== null && typeof value === "object" && !Array.isArray(value)) return { json: content };
    } catch {
      // Not JSON: YAML's flow mappings also start with "{".
    }
  }
  const doc = parseDocument(content, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return { problem: `the content is not valid YAML or JSON: ${firstLine(doc.errors[0]?.message ?? "")}` };
  if (!isMap(doc.contents)) return { problem: "the content is not a YAML or JSON mapping (v2 agents take a pipeline as a JSON object)" };
  try {
    return { json: JSON.stringify(doc.toJS({ maxAliasCount: 1000 })) };
  } catch (e) {
    return { problem: `the content cannot be converted to JSON: ${(e as Error).message}` };
  }
}
