import { isValidName, nameRuleMessage } from "./names.ts";
import { type ConfigSpec, type GroupSpec, type InstanceConfigSpec, type Pos, type Problem } from "./types.ts";

export interface ConfigFile {
  readonly file: string;
  readonly stem: string;
  readonly spec: ConfigSpec;
  readonly namePos: Pos;
}

export interface InstanceConfigFile {
  readonly file: string;
  readonly stem: string;
  readonly spec: InstanceConfigSpec;
  readonly namePos: Pos;
}

export interface GroupFile {
  readonly file: string;
  readonly stem: string;
  readonly spec: GroupSpec;
  readonly namePos: Pos;
  readonly configRefs: readonly { readonly name: string; readonly pos: Pos }[];
  readonly instanceRefs?: readonly { readonly name: string; readonly pos: Pos }[];
}

/**
 * Cross-file rules of a repository: names, file stems, duplicates and references. The server
 * refuses to serve a commit with any problem, and `configserver validate` reports the same list.
 * `unreadableConfigs` are stems of config files that exist but do not parse: they are already
 * reported, so groups naming them are not also told the config is missing.
 */
export function validateRepo(
  configs: readonly ConfigFile[],
  groups: readonly GroupFile[],
  unreadableConfigs: ReadonlySet<string> = new Set(),
  instanceConfigs: readonly InstanceConfigFile[] = [],
  unreadableInstances: ReadonlySet<string> = new Set(),
): Problem[] {
  const problems: Problem[] = [];
  const at = (file: string, pos: Pos, message: string) => problems.push({ file, line: pos.line, column: pos.column, message });

  const checkNames = (kind: "config" | "agent group" | "instance config", field: string, dir: string, files: readonly (ConfigFile | GroupFile | InstanceConfigFile)[]) => {
    const seen = new Map<string, string>();
    for (const f of files) {
      const name = f.spec.name;
      if (name === "") continue; // already reported as a missing field
      if (!isValidName(name)) at(f.file, f.namePos, nameRuleMessage(kind, name));
      else if (name !== f.stem) {
        at(f.file, f.namePos, `${field} ${JSON.stringify(name)} does not match the file name: rename the file to ${dir}/${name}.yaml or set ${field}: ${f.stem}`);
      }
      const first = seen.get(name);
      if (first !== undefined) at(f.file, f.namePos, `duplicate ${kind} name ${JSON.stringify(name)}: also defined in ${first}`);
      else seen.set(name, f.file);
    }
    return seen;
  };

  const configNames = checkNames("config", "config_name", "configs", configs);
  checkNames("agent group", "group_name", "agent_groups", groups);
  const instanceNames = checkNames("instance config", "config_name", "instance_configs", instanceConfigs);

  const checkRefs = (g: GroupFile, refs: readonly { name: string; pos: Pos }[], kind: string, key: string, dir: string, known: ReadonlyMap<string, string>, unreadable: ReadonlySet<string>) => {
    const listed = new Set<string>();
    for (const ref of refs) {
      if (listed.has(ref.name)) at(g.file, ref.pos, `${kind} ${JSON.stringify(ref.name)} is listed twice in ${key}: remove one entry`);
      listed.add(ref.name);
      if (!known.has(ref.name) && !unreadable.has(ref.name)) {
        at(g.file, ref.pos, `agent group ${JSON.stringify(g.spec.name)} applies ${kind} ${JSON.stringify(ref.name)}, which does not exist: add ${dir}/${ref.name}.yaml or remove the entry`);
      }
    }
  };
  for (const g of groups) {
    checkRefs(g, g.configRefs, "config", "configs", "configs", configNames, unreadableConfigs);
    checkRefs(g, g.instanceRefs ?? [], "instance config", "instance_configs", "instance_configs", instanceNames, unreadableInstances);
  }
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
  return problems;
}
