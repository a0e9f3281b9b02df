import type { ConfigKind } from "./agent.ts";
import type { RepoState } from "./repoState.ts";
import type { GroupSpec } from "./types.ts";

/** The names a group binds of `kind` (`configs:` or `instance_configs:`). */
export function boundNames(g: GroupSpec, kind: ConfigKind): readonly string[] {
  return kind === "pipeline" ? g.configs : (g.instanceConfigs ?? []);
}

/** The groups of `state` that apply config `name` of `kind`, sorted by name. */
export function groupsApplying(state: RepoState, kind: ConfigKind, name: string): GroupSpec[] {
  return state.sortedGroups.filter((g) => boundNames(g, kind).includes(name));
}

/**
 * What decides which agents a set of groups gives a config to: each group's name and selectors
 * (tags, ips, host names), as one string. Two sets with the same key match the same agents.
 */
export function bindingKey(groups: readonly GroupSpec[]): string {
  const parts = groups.map((g) => [g.name, g.tags.map((t) => [t.name, t.value]), (g.ips ?? []).map((i) => i.text), g.hostnames ?? []]);
  parts.sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
  return JSON.stringify(parts);
}

/** The groups' names as people read them: `default, web`, or `no group`. */
export function groupsText(groups: readonly GroupSpec[]): string {
  if (groups.length === 0) return "no group";
  return groups.map((g) => g.name).join(", ");
}

/**
 * The groups to write so that config `name` of `kind` is applied as `before` applied it, in `state`:
 * each group of before applies it again with its selectors of before (re-created when it was deleted,
 * keeping only bindings of configs that exist), and each other group of `state` that applies it no
 * longer does. Other bindings of those groups are left as `state` has them. Sorted by name.
 */
export function restoredGroups(state: RepoState, kind: ConfigKind, name: string, before: readonly GroupSpec[]): GroupSpec[] {
  const out: GroupSpec[] = [];
  const names = new Set(before.map((g) => g.name));
  const withName = (list: readonly string[], add: boolean) => [...new Set(add ? [...list, name] : list.filter((n) => n !== name))].sort();
  for (const old of before) {
    const cur = state.groups.get(old.name);
    const base: GroupSpec = cur ?? {
      ...old,
      configs: old.configs.filter((c) => state.configs.has(c)),
      ...(old.instanceConfigs !== undefined ? { instanceConfigs: old.instanceConfigs.filter((c) => state.instanceConfigs.has(c)) } : {}),
    };
    const { ips: _i, hostnames: _h, ...rest } = base;
    const next: GroupSpec = {
      ...rest,
      tags: old.tags,
      ...(old.ips !== undefined ? { ips: old.ips } : {}),
      ...(old.hostnames !== undefined ? { hostnames: old.hostnames } : {}),
      ...(kind === "pipeline" ? { configs: withName(base.configs, true) } : { instanceConfigs: withName(base.instanceConfigs ?? [], true) }),
    };
    if (cur === undefined || !sameGroup(cur, next)) out.push(next);
  }
  for (const g of state.sortedGroups) {
    if (names.has(g.name) || !boundNames(g, kind).includes(name)) continue;
    out.push(kind === "pipeline" ? { ...g, configs: withName(g.configs, false) } : { ...g, instanceConfigs: withName(g.instanceConfigs ?? [], false) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function sameGroup(a: GroupSpec, b: GroupSpec): boolean {
  return bindingKey([a]) === bindingKey([b]) && a.configs.join("\0") === b.configs.join("\0") && (a.instanceConfigs ?? []).join("\0") === (b.instanceConfigs ?? []).join("\0");
}
