import { byName, isValidName, nameRuleMessage } from "./names.ts";
import type { RepoState } from "./repoState.ts";
import type { ConfigSpec, GroupSpec, Tag } from "./types.ts";
import type { Change, WritePlan } from "./userOps.ts";

/** An agent group as another ConfigServer's User API lists it, with the configs applied to it. */
export interface ImportedGroup {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly Tag[];
  readonly configs: readonly string[];
}

/** Everything read from the source server. */
export interface ImportSource {
  /** Names the source in the commit message, e.g. "the v1 ConfigServer at http://old:8899". */
  readonly label: string;
  readonly configs: readonly ConfigSpec[];
  readonly groups: readonly ImportedGroup[];
}

/** A name the repository did not have, one it had with other content, or one it had as the source has it. */
export type ImportOutcome = "new" | "changed" | "unchanged";

export interface ImportEntry {
  readonly kind: "config" | "agent group";
  readonly name: string;
  readonly outcome: ImportOutcome;
}

export interface ImportPlan extends WritePlan {
  /** Every config and group of the source, in file order, with what happens to its file. */
  readonly entries: readonly ImportEntry[];
  /** Bindings (group → config) written. */
  readonly bindings: number;
  /** Bindings to a config that is neither in the source nor in the repository: not written. */
  readonly dangling: readonly { readonly group: string; readonly config: string }[];
}

/**
 * Why the source cannot be imported as it is, all at once: names that break the rule (they become
 * file names), the same name twice, configs without content (the repository refuses them). Empty
 * when it can be.
 */
export function importProblems(source: ImportSource): string[] {
  const problems: string[] = [];
  const check = (kind: "config" | "agent group", names: readonly string[]) => {
    const seen = new Set<string>();
    for (const name of names) {
      if (!isValidName(name)) problems.push(nameRuleMessage(kind, name));
      else if (seen.has(name)) problems.push(`The source lists ${kind} ${JSON.stringify(name)} twice.`);
      seen.add(name);
    }
  };
  check("config", source.configs.map((c) => c.name));
  check("agent group", source.groups.map((g) => g.name));
  for (const c of source.configs) if (isValidName(c.name) && c.content === "") problems.push(`Config ${JSON.stringify(c.name)} has no content (the repository refuses empty configs).`);
  return problems;
}

const sameTags = (a: readonly Tag[], b: readonly Tag[]) => a.length === b.length && a.every((t, i) => t.name === b[i]?.name && t.value === b[i]?.value);
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The source's configs and groups written into the repository as one commit: new ones added, ones
 * with the same name replaced by the source's (a replaced group keeps the instance configs bound
 * in its file: the User APIs have none), nothing else touched. Call after importProblems is empty.
 */
export function planImport(state: RepoState, source: ImportSource): ImportPlan {
  const entries: ImportEntry[] = [];
  const changes: Change[] = [];
  const imported = new Set(source.configs.map((c) => c.name));
  for (const c of [...source.configs].sort(byName)) {
    const old = state.configs.get(c.name);
    const spec: ConfigSpec = { name: c.name, agentType: c.agentType, description: c.description, content: c.content };
    const same = old !== undefined && old.agentType === spec.agentType && old.description === spec.description && old.content === spec.content;
    entries.push({ kind: "config", name: c.name, outcome: old === undefined ? "new" : same ? "unchanged" : "changed" });
    if (!same) changes.push({ kind: "putConfig", config: spec });
  }
  let bindings = 0;
  const dangling: { group: string; config: string }[] = [];
  for (const g of [...source.groups].sort(byName)) {
    const configs: string[] = [];
    for (const name of [...new Set(g.configs)].sort()) {
      if (imported.has(name) || state.configs.has(name)) configs.push(name);
      else dangling.push({ group: g.name, config: name });
    }
    bindings += configs.length;
    const old = state.groups.get(g.name);
    const spec: GroupSpec = { name: g.name, description: g.description, tags: g.tags.map((t) => ({ name: t.name, value: t.value })), configs, ...(old?.ips ? { ips: old.ips } : {}), ...(old?.hostnames ? { hostnames: old.hostnames } : {}), ...(old?.instanceConfigs ? { instanceConfigs: old.instanceConfigs } : {}) };
    const same = old !== undefined && old.description === spec.description && sameTags(old.tags, spec.tags) && sameList(old.configs, spec.configs);
    // The default group exists even without its file: one equal to the source's needs none.
    entries.push({ kind: "agent group", name: g.name, outcome: old === undefined ? "new" : same ? "unchanged" : "changed" });
    if (!same) changes.push({ kind: "putGroup", group: spec });
  }
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const changed = entries.filter((e) => e.outcome !== "unchanged").length;
  const message = `Import ${count(source.configs.length, "config", "configs")}, ${count(source.groups.length, "agent group", "agent groups")} and ${count(bindings, "binding", "bindings")} from ${source.label} (${changed} of ${entries.length} files written)`;
  return { changes, message, entries, bindings, dangling };
}


