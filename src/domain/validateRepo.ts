import { isValidName, nameRuleMessage } from "./names.ts";
import { type ConfigSpec, type GroupSpec, type Pos, type Problem } from "./types.ts";

export interface ConfigFile {
  readonly file: string;
  readonly stem: string;
  readonly spec: ConfigSpec;
  readonly namePos: Pos;
}

export interface GroupFile {
  readonly file: string;
  readonly stem: string;
  readonly spec: GroupSpec;
  readonly namePos: Pos;
  readonly configRefs: readonly { readonly name: string; readonly pos: Pos }[];
}

/**
 * Cross-file rules of a repository: names, file stems, duplicates and references. The server
 * refuses to serve a commit with any problem, and `configserver validate` reports the same list.
 * `unreadableConfigs` are stems of config files that exist but do not parse: they are already
 * reported, so groups naming them are not also told the config is missing.
 */
export function validateRepo(configs: readonly ConfigFile[], groups: readonly GroupFile[], unreadableConfigs: ReadonlySet<string> = new Set()): Problem[] {
  const problems: Problem[] = [];
  const at = (file: string, pos: Pos, message: string) => problems.push({ file, line: pos.line, column: pos.column, message });

  const checkNames = (kind: "config" | "agent group", field: string, dir: string, files: readonly (ConfigFile | GroupFile)[]) => {
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

  for (const g of groups) {
    const listed = new Set<string>();
    for (const ref of g.configRefs) {
      if (listed.has(ref.name)) at(g.file, ref.pos, `config ${JSON.stringify(ref.name)} is listed twice in configs: remove one entry`);
      listed.add(ref.name);
      if (!configNames.has(ref.name) && !unreadableConfigs.has(ref.name)) {
        at(g.file, ref.pos, `agent group ${JSON.stringify(g.spec.name)} applies config ${JSON.stringify(ref.name)}, which does not exist: add configs/${ref.name}.yaml or remove the entry`);
      }
    }
  }
  problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
  return problems;
}
