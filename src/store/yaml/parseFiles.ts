import { isMap, isScalar, type Node, type Pair } from "yaml";
import type { ParsedConfigFile, ParsedGroupFile } from "../../domain/fileCheck.ts";
import type { RolloutPolicy } from "../../domain/rolloutPolicy.ts";
import type { ConfigSpec, GroupSpec, InstanceConfigSpec, Pos, Problem, Tag } from "../../domain/types.ts";
import { FileReader, type ContentPlace } from "./fileReader.ts";
import { readPolicy } from "./rolloutCodec.ts";
import { readHostnames, readIps } from "./selectorCodec.ts";

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

const INSTANCE_CONFIG_FIELDS = ["config_name", "description", "content", "format", "rollout"];
/** A config file is an instance config file with the agent type it is for. */
const CONFIG_FIELDS = ["config_name", "agent_type", ...INSTANCE_CONFIG_FIELDS.slice(1)];
const GROUP_FIELDS = ["group_name", "description", "tags", "ips", "hostnames", "configs", "instance_configs"];

/**
 * The one parser of both kinds of config file (configs/ and instance_configs/): the same fields,
 * checked the same way, and `agent_type` when the file is a config.
 */
function parseAnyConfig(file: string, text: string, withAgentType: boolean): Parsed<ParsedInstanceConfig & { readonly agentType: string }> {
  const r = new FileReader(file, text);
  const f = r.fields(withAgentType ? CONFIG_FIELDS : INSTANCE_CONFIG_FIELDS);
  if (!f) return { problems: r.problems };
  const name = r.string(f, "config_name", true);
  const agentType = withAgentType ? r.string(f, "agent_type", false).value : "";
  const description = r.string(f, "description", false);
  const content = r.string(f, "content", true);
  if (f.has("content") && content.value === "" && r.problems.length === 0) r.problem(content.pos, 'field "content" must not be empty');
  const format = r.format(f);
  const rollout = configRollout(r, f, file);
  const spec: InstanceConfigSpec = { name: name.value, description: description.value, content: content.value, ...(format ? { format } : {}), ...(rollout ? { rollout } : {}) };
  return { value: { spec, agentType, namePos: name.pos, contentPos: content.pos, contentPlace: r.place(f, content.pos) }, problems: r.problems };
}

export function parseConfigFile(file: string, text: string): Parsed<ParsedConfig> {
  const { value, problems } = parseAnyConfig(file, text, true);
  if (!value) return { problems };
  const { spec, agentType, ...places } = value;
  const config: ConfigSpec = { name: spec.name, agentType, description: spec.description, content: spec.content, ...(spec.format ? { format: spec.format } : {}), ...(spec.rollout ? { rollout: spec.rollout } : {}) };
  return { value: { spec: config, ...places }, problems };
}

export function parseInstanceConfigFile(file: string, text: string): Parsed<ParsedInstanceConfig> {
  const { value, problems } = parseAnyConfig(file, text, false);
  if (!value) return { problems };
  const { agentType: _, ...parsed } = value;
  return { value: parsed, problems };
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
