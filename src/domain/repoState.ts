import { groupMatches } from "./matching.ts";
import { DEFAULT_GROUP, DEFAULT_GROUP_DESCRIPTION, type ConfigRecord, type GroupSpec } from "./types.ts";

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const MAX_CACHED_TAG_SETS = 10_000;

/**
 * The served state: one commit's configs and groups. Immutable; a new commit gives a new RepoState,
 * swapped atomically. Everything an agent request needs is precomputed or cached here, per tag set.
 */
export class RepoState {
  readonly configs: ReadonlyMap<string, ConfigRecord>;
  readonly groups: ReadonlyMap<string, GroupSpec>;
  readonly sortedConfigs: readonly ConfigRecord[];
  readonly sortedGroups: readonly GroupSpec[];
  private readonly appliedCache = new Map<string, readonly ConfigRecord[]>();

  constructor(
    readonly commit: string,
    /** First-parent depth of `commit` (1 for a root commit, 0 for an empty repository). */
    readonly depth: number,
    /** Commit time, unix milliseconds. */
    readonly committedAt: number,
    configs: Iterable<ConfigRecord>,
    groups: Iterable<GroupSpec>,
  ) {
    this.configs = new Map([...configs].map((c) => [c.name, Object.freeze(c)]));
    const g = new Map([...groups].map((x) => [x.name, Object.freeze(x)]));
    if (!g.has(DEFAULT_GROUP)) g.set(DEFAULT_GROUP, implicitDefaultGroup());
    this.groups = g;
    this.sortedConfigs = Object.freeze([...this.configs.values()].sort(byName));
    this.sortedGroups = Object.freeze([...this.groups.values()].sort(byName));
  }

  /** Configs applied to any group matching these tags, sorted by name. Cached per tag set. */
  appliedConfigs(key: string, tags: Readonly<Record<string, string>>): readonly ConfigRecord[] {
    const cached = this.appliedCache.get(key);
    if (cached) return cached;
    const names = new Set<string>();
    for (const group of this.sortedGroups) {
      if (groupMatches(group, tags)) for (const c of group.configs) names.add(c);
    }
    const applied = Object.freeze(
      [...names]
        .map((n) => this.configs.get(n))
        .filter((c): c is ConfigRecord => c !== undefined)
        .sort(byName),
    );
    // A fleet has few distinct tag sets; the bound only guards against a pathological one.
    if (this.appliedCache.size >= MAX_CACHED_TAG_SETS) this.appliedCache.clear();
    this.appliedCache.set(key, applied);
    return applied;
  }

  /** Groups that have this config applied, sorted by name. */
  groupsApplying(configName: string): string[] {
    return this.sortedGroups.filter((g) => g.configs.includes(configName)).map((g) => g.name);
  }
}

export function implicitDefaultGroup(): GroupSpec {
  return { name: DEFAULT_GROUP, description: DEFAULT_GROUP_DESCRIPTION, tags: [], configs: [] };
}
