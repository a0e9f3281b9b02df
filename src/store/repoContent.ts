import type { ConfigSpec, GroupSpec, Problem } from "../domain/types.ts";
import { validateRepo, type ConfigFile, type GroupFile } from "../domain/validateRepo.ts";
import { parseConfigFile, parseGroupFile } from "./yamlCodec.ts";

export const CONFIG_DIR = "configs";
export const GROUP_DIR = "agent_groups";

export interface RepoContent {
  readonly configs: readonly ConfigSpec[];
  readonly groups: readonly GroupSpec[];
  readonly problems: readonly Problem[];
}

export const configPath = (name: string) => `${CONFIG_DIR}/${name}.yaml`;
export const groupPath = (name: string) => `${GROUP_DIR}/${name}.yaml`;

/** Whether a repository path is one the server reads (or must complain about). */
export function isStatePath(path: string): boolean {
  return path.startsWith(`${CONFIG_DIR}/`) || path.startsWith(`${GROUP_DIR}/`);
}

/**
 * Parses and validates the state files of one tree (a commit, or a working directory for
 * `validate`). The one function both the server and the CLI use, so their verdicts agree.
 */
export function readRepoContent(files: ReadonlyMap<string, string>): RepoContent {
  const problems: Problem[] = [];
  const configs: ConfigFile[] = [];
  const groups: GroupFile[] = [];
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const slash = file.indexOf("/");
    const dir = file.slice(0, slash);
    const base = file.slice(slash + 1);
    if (dir !== CONFIG_DIR && dir !== GROUP_DIR) continue;
    if (base.startsWith(".") || base.toLowerCase() === "readme.md") continue;
    if (base.includes("/") || !base.endsWith(".yaml")) {
      problems.push({ file, line: 1, column: 1, message: `unexpected file in ${dir}/: state files are ${dir}/<name>.yaml (move or rename it)` });
      continue;
    }
    const stem = base.slice(0, -".yaml".length);
    if (dir === CONFIG_DIR) {
      const r = parseConfigFile(file, text);
      problems.push(...r.problems);
      if (r.value && r.problems.length === 0) configs.push({ file, stem, ...r.value });
    } else {
      const r = parseGroupFile(file, text);
      problems.push(...r.problems);
      if (r.value && r.problems.length === 0) groups.push({ file, stem, ...r.value });
    }
  }
  problems.push(...validateRepo(configs, groups));
  return { configs: configs.map((c) => c.spec), groups: groups.map((g) => g.spec), problems };
}
