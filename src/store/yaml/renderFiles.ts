import { Document, isMap, Scalar } from "yaml";
import { parseYaml } from "./parseYaml.ts";
import type { ConfigSpec, GroupSpec } from "../../domain/types.ts";
import { parseConfigFile, parseGroupFile } from "./parseFiles.ts";

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
  const doc = parseYaml(previous);
  return doc.errors.length === 0 && isMap(doc.contents) ? doc : undefined;
}
