import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import type { ConfigSpec, GroupSpec, InstanceConfigSpec, Problem } from "../domain/types.ts";
import { validateRepo, type ConfigFile, type GroupFile, type InstanceConfigFile } from "../domain/validateRepo.ts";
import { withContentProblem, type ContentLimits } from "./contentCheck.ts";
import { parseConfigFile, parseGroupFile, parseInstanceConfigFile, parseRolloutFile } from "./yaml/parseFiles.ts";

export const CONFIG_DIR = "configs";
export const GROUP_DIR = "agent_groups";
export const INSTANCE_DIR = "instance_configs";
/** Every folder the server reads; the rest of the repository (README, CI files) is ignored. */
export const STATE_DIRS: readonly string[] = [CONFIG_DIR, GROUP_DIR, INSTANCE_DIR];
/** The repository's rollout policy, the one state file at the root. */
export const ROLLOUT_FILE = "rollout.yaml";
/** What to list of a tree to read its state: the folders and the root files. */
export const STATE_PATHS: readonly string[] = [...STATE_DIRS, ROLLOUT_FILE];

export interface RepoContent {
  readonly configs: readonly ConfigSpec[];
  readonly groups: readonly GroupSpec[];
  readonly instanceConfigs: readonly InstanceConfigSpec[];
  /** The repository's default rollout policy (rollout.yaml); undefined without one. */
  readonly rollout?: RolloutPolicy | undefined;
  readonly problems: readonly Problem[];
  /** Served anyway: credentials written in plain text in contents (with --secrets warn). */
  readonly warnings: readonly Problem[];
}

export const configPath = (name: string) => `${CONFIG_DIR}/${name}.yaml`;
export const groupPath = (name: string) => `${GROUP_DIR}/${name}.yaml`;
export const instanceConfigPath = (name: string) => `${INSTANCE_DIR}/${name}.yaml`;

/** Whether a repository path is one the server reads (or must complain about). */
export function isStatePath(path: string): boolean {
  return path === ROLLOUT_FILE || STATE_DIRS.some((d) => path.startsWith(`${d}/`));
}

/**
 * Parses and validates the state files of one tree (a commit, or a working directory for
 * `validate`). The one function both the server and the CLI use, so their verdicts agree.
 */
export function readRepoContent(files: ReadonlyMap<string, string>, limits: ContentLimits, cache?: ParseCache): RepoContent {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const configs: ConfigFile[] = [];
  const groups: GroupFile[] = [];
  const instances: InstanceConfigFile[] = [];
  const broken = new Set<string>();
  /** Config files that exist but could not be read at all: a group naming one is not "missing" it. */
  const unreadable = new Set<string>();
  const unreadableInstances = new Set<string>();
  let rollout: RolloutPolicy | undefined;
  for (const [file, text] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (file === ROLLOUT_FILE) {
      const r = cached(cache, file, text, () => parseRolloutFile(file, text));
      problems.push(...r.problems);
      rollout = r.value;
      continue;
    }
    const slash = file.indexOf("/");
    const dir = file.slice(0, slash);
    const base = file.slice(slash + 1);
    if (!STATE_DIRS.includes(dir)) continue;
    if (base.startsWith(".") || base.toLowerCase() === "readme.md") continue;
    if (base.includes("/") || !base.endsWith(".yaml")) {
      const hint = base.includes("/") ? `move it to ${dir}/${base.slice(base.lastIndexOf("/") + 1)}` : base.endsWith(".yml") ? `rename it to ${file.slice(0, -4)}.yaml` : "move or rename it";
      problems.push({ file, line: 1, column: 1, message: `unexpected file in ${dir}/: state files are ${dir}/<name>.yaml, with no subfolders (${hint})` });
      continue;
    }
    const stem = base.slice(0, -".yaml".length);
    if (dir === CONFIG_DIR) {
      const r = cached(cache, file, text, () => entryOf(withContentProblem(file, parseConfigFile(file, text), limits), file, stem));
      problems.push(...r.problems);
      warnings.push(...r.warnings);
      if (r.entry) configs.push(r.entry);
      else unreadable.add(stem);
      if (r.problems.length > 0) broken.add(file);
    } else if (dir === INSTANCE_DIR) {
      const r = cached(cache, file, text, () => entryOf(withContentProblem(file, parseInstanceConfigFile(file, text), limits), file, stem));
      problems.push(...r.problems);
      warnings.push(...r.warnings);
      if (r.entry) instances.push(r.entry);
      else unreadableInstances.add(stem);
      if (r.problems.length > 0) broken.add(file);
    } else {
      const r = cached(cache, file, text, () => entryOf(parseGroupFile(file, text), file, stem));
      problems.push(...r.problems);
      if (r.entry) groups.push(r.entry);
      if (r.problems.length > 0) broken.add(file);
    }
  }
  // Files with problems still take part in the cross-file checks, so one run reports everything.
  problems.push(...validateRepo(configs, groups, unreadable, instances, unreadableInstances));
  problems.sort(byPosition);
  const ok = <T extends { file: string }>(f: T) => !broken.has(f.file);
  return { configs: configs.filter(ok).map((c) => c.spec), groups: groups.filter(ok).map((g) => g.spec), instanceConfigs: instances.filter(ok).map((c) => c.spec), rollout, problems, warnings: warnings.sort(byPosition) };
}

/**
 * Parse results by file and text. The server reparses only files a commit changed: a write to a
 * repository of a thousand configs must not parse a thousand YAML files.
 */
export class ParseCache {
  private current = new Map<string, { text: string; value: unknown }>();
  private previous = new Map<string, { text: string; value: unknown }>();

  get<T>(file: string, text: string, make: () => T): T {
    // Keyed by file, checked by text: comparing a string is cheaper than hashing file + text.
    const hit = this.current.get(file) ?? this.previous.get(file);
    if (hit && hit.text === text) {
      this.current.set(file, hit);
      return hit.value as T;
    }
    const value = make();
    this.current.set(file, { text, value });
    return value;
  }

  /** Forgets entries not used since the last call, so the cache follows the current tree. */
  prune(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

function cached<T>(cache: ParseCache | undefined, file: string, text: string, parse: () => T): T {
  return cache ? cache.get(file, text, parse) : parse();
}

/** A parsed file with its path and stem, built once per text (cached with the parse). */
function entryOf<V extends object>(parsed: { value?: V; problems: readonly Problem[]; warnings?: readonly Problem[] }, file: string, stem: string): { entry?: V & { file: string; stem: string }; problems: readonly Problem[]; warnings: readonly Problem[] } {
  const warnings = parsed.warnings ?? [];
  return parsed.value ? { entry: { file, stem, ...parsed.value }, problems: parsed.problems, warnings } : { problems: parsed.problems, warnings };
}

function byPosition(a: Problem, b: Problem): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column;
}
