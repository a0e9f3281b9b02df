import { isValidName, nameRuleMessage } from "./names.ts";
import type { RepoState } from "./repoState.ts";
import type { ConfigSpec, GroupSpec, Pos, Problem } from "./types.ts";
import { validateRepo, type ConfigFile, type GroupFile, type InstanceConfigFile } from "./validateRepo.ts";

/** A config file as parsed (src/store/yaml/parseFiles.ts), before the checks that need the repository. */
export interface ParsedFile<T> {
  readonly value?: T | undefined;
  readonly problems: readonly Problem[];
}

export interface ParsedConfigFile {
  readonly spec: ConfigSpec;
  readonly namePos: Pos;
}

export interface ParsedGroupFile {
  readonly spec: GroupSpec;
  readonly namePos: Pos;
  /** Where each entry of `configs:` stands, in file order (duplicates included). */
  readonly configRefs: readonly { readonly name: string; readonly pos: Pos }[];
  /** The same for `instance_configs:`. */
  readonly instanceRefs: readonly { readonly name: string; readonly pos: Pos }[];
}

export interface FileVerdict<T> {
  /** Where the file lives (or will): `configs/<name>.yaml`, `agent_groups/<name>.yaml`. */
  readonly path: string;
  /** Problems in this file only, sorted by position: the server would refuse a commit with any. */
  readonly problems: readonly Problem[];
  readonly spec?: T | undefined;
}

const ORIGIN: Pos = { line: 1, column: 1 };
const byPosition = (a: Problem, b: Problem) => a.line - b.line || a.column - b.column;

/**
 * Whether a config file would be served if committed on top of `state`, replacing the file of
 * config `editing` (or as a new file when `editing` is undefined). The same rules as the server's
 * (src/domain/validateRepo.ts) plus what a write through the API cannot do: rename a config, or
 * create one that exists.
 */
export function checkConfigFile(state: RepoState, parsed: ParsedFile<ParsedConfigFile>, editing: string | undefined): FileVerdict<ConfigSpec> {
  const spec = parsed.value?.spec;
  const name = editing ?? spec?.name ?? "";
  const path = `configs/${name || "<config_name>"}.yaml`;
  const problems = parsed.problems.map((p) => ({ ...p, file: path }));
  if (spec && problems.length === 0) {
    const at = (message: string) => problems.push({ file: path, ...(parsed.value as ParsedConfigFile).namePos, message });
    if (!isValidName(spec.name)) at(nameRuleMessage("config", spec.name));
    else if (editing !== undefined && spec.name !== editing) at(`config_name must stay ${JSON.stringify(editing)}: this is ${path} (to rename a config, create the new one and delete this one)`);
    else if (editing === undefined && state.configs.has(spec.name)) at(`config ${JSON.stringify(spec.name)} already exists: edit configs/${spec.name}.yaml instead, or choose another name`);
  }
  problems.sort(byPosition);
  return { path, problems, spec: problems.length === 0 ? spec : undefined };
}

/**
 * The same for a group file: its name, its tags, and every config and instance config it applies
 * must exist in `state` (each problem at the line that names it).
 */
export function checkGroupFile(state: RepoState, parsed: ParsedFile<ParsedGroupFile>, editing: string | undefined): FileVerdict<GroupSpec> {
  const value = parsed.value;
  const name = editing ?? value?.spec.name ?? "";
  const path = `agent_groups/${name || "<group_name>"}.yaml`;
  const problems: Problem[] = parsed.problems.map((p) => ({ ...p, file: path }));
  if (value && problems.length === 0) {
    const spec = value.spec;
    const at = (message: string) => problems.push({ file: path, ...value.namePos, message });
    if (!isValidName(spec.name)) at(nameRuleMessage("agent group", spec.name));
    else if (editing !== undefined && spec.name !== editing) at(`group_name must stay ${JSON.stringify(editing)}: this is ${path} (to rename a group, create the new one and delete this one)`);
    else if (editing === undefined && state.groups.has(spec.name)) at(`agent group ${JSON.stringify(spec.name)} already exists: edit agent_groups/${spec.name}.yaml instead, or choose another name`);
    else {
      // The repository's own cross-file rules, with the served configs as the other files.
      const configs: ConfigFile[] = state.sortedConfigs.map((c) => ({ file: `configs/${c.name}.yaml`, stem: c.name, spec: c, namePos: ORIGIN }));
      const instances: InstanceConfigFile[] = state.sortedInstanceConfigs.map((c) => ({ file: `instance_configs/${c.name}.yaml`, stem: c.name, spec: c, namePos: ORIGIN }));
      const group: GroupFile = { file: path, stem: spec.name, spec, namePos: value.namePos, configRefs: value.configRefs, instanceRefs: value.instanceRefs };
      problems.push(...validateRepo(configs, [group], new Set(), instances).filter((p) => p.file === path));
    }
  }
  problems.sort(byPosition);
  return { path, problems, spec: problems.length === 0 ? value?.spec : undefined };
}
