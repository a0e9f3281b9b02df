import { byName } from "./names.ts";
import { DEFAULT_GROUP, type ConfigSpec, type GroupSpec, type InstanceConfigSpec, type Tag } from "./types.ts";

// What one repository state changes against another, in the model's terms (configs, instance
// configs, groups and which agents each reaches), for `configserver validate --base`'s preview
// (preview.ts renders it as Markdown).

/** One side of a comparison: what parsed, plus every state file present (parsed or not). */
export interface PreviewSide {
  readonly configs: readonly ConfigSpec[];
  readonly groups: readonly GroupSpec[];
  readonly instanceConfigs?: readonly InstanceConfigSpec[];
  /** Paths of state files present; a file that is present but did not parse is not "removed". */
  readonly files?: ReadonlySet<string>;
}

export type ConfigField = "agent_type" | "description" | "content";
export type InstanceConfigField = "description" | "content";

/** A group as a selector: its name and the tags that pick its agents. */
export interface GroupRef {
  readonly name: string;
  readonly tags: readonly Tag[];
}

export interface ConfigChange<S = ConfigSpec, F extends string = ConfigField> {
  readonly name: string;
  /** "unparsable": the file is there but fails validation, so what it will hold is unknown. */
  readonly kind: "added" | "changed" | "removed" | "unparsable";
  readonly fields: readonly F[];
  readonly before?: S;
  readonly after?: S;
  /** Groups applying the config after the change (before it, for a removed config). */
  readonly reach: readonly GroupRef[];
}

export type InstanceConfigChange = ConfigChange<InstanceConfigSpec, InstanceConfigField>;

export interface GroupChange {
  readonly name: string;
  readonly kind: "added" | "changed" | "removed" | "unparsable";
  readonly gained: readonly string[];
  readonly lost: readonly string[];
  /** Instance configs the group's agents gain or lose. */
  readonly instanceGained: readonly string[];
  readonly instanceLost: readonly string[];
  readonly tagsBefore: readonly Tag[];
  readonly tagsAfter: readonly Tag[];
  readonly tagsChanged: boolean;
  readonly descriptionChanged: boolean;
}

export interface ChangeSet {
  readonly configs: readonly ConfigChange[];
  readonly instanceConfigs: readonly InstanceConfigChange[];
  readonly groups: readonly GroupChange[];
}

const sameTags = (a: readonly Tag[], b: readonly Tag[]) => a.length === b.length && a.every((t, i) => t.name === b[i]?.name && t.value === b[i]?.value);

/** How one kind of config is compared: its folder, its fields, and which group list applies it. */
export interface ConfigKind<S, F extends string> {
  readonly dir: string;
  readonly fields: readonly (readonly [F, (s: S) => string])[];
  readonly appliedBy: (g: GroupSpec) => readonly string[];
}

export const PIPELINE: ConfigKind<ConfigSpec, ConfigField> = {
  dir: "configs",
  fields: [["agent_type", (s) => s.agentType], ["description", (s) => s.description], ["content", (s) => s.content]],
  appliedBy: (g) => g.configs,
};

export const INSTANCE: ConfigKind<InstanceConfigSpec, InstanceConfigField> = {
  dir: "instance_configs",
  fields: [["description", (s) => s.description], ["content", (s) => s.content]],
  appliedBy: (g) => g.instanceConfigs ?? [],
};

function reachOf<S, F extends string>(kind: ConfigKind<S, F>, groups: readonly GroupSpec[], config: string): GroupRef[] {
  return groups.filter((g) => kind.appliedBy(g).includes(config)).map((g) => ({ name: g.name, tags: g.tags })).sort(byName);
}

function diffSpecs<S extends { name: string }, F extends string>(kind: ConfigKind<S, F>, base: readonly S[], head: readonly S[], sides: { base: PreviewSide; head: PreviewSide }): ConfigChange<S, F>[] {
  const changes: ConfigChange<S, F>[] = [];
  const baseSpecs = new Map(base.map((c) => [c.name, c]));
  const headSpecs = new Map(head.map((c) => [c.name, c]));
  for (const name of [...new Set([...baseSpecs.keys(), ...headSpecs.keys()])].sort()) {
    const before = baseSpecs.get(name);
    const after = headSpecs.get(name);
    if (before && after) {
      const fields = kind.fields.filter(([, get]) => get(before) !== get(after)).map(([f]) => f);
      if (fields.length > 0) changes.push({ name, kind: "changed", fields, before, after, reach: reachOf(kind, sides.head.groups, name) });
    } else if (after) {
      changes.push({ name, kind: "added", fields: [], after, reach: reachOf(kind, sides.head.groups, name) });
    } else if (before) {
      const present = sides.head.files?.has(`${kind.dir}/${name}.yaml`) ?? false;
      changes.push({ name, kind: present ? "unparsable" : "removed", fields: [], before, reach: reachOf(kind, present ? sides.head.groups : sides.base.groups, name) });
    }
  }
  return changes;
}

/** What `head` changes relative to `base`: configs, instance configs and groups added, changed, removed. */
export function diffRepoContent(base: PreviewSide, head: PreviewSide): ChangeSet {
  const sides = { base, head };
  const configs = diffSpecs(PIPELINE, base.configs, head.configs, sides);
  const instanceConfigs = diffSpecs(INSTANCE, base.instanceConfigs ?? [], head.instanceConfigs ?? [], sides);

  const groups: GroupChange[] = [];
  // `default` exists on both sides even without a file: its file appearing or going only moves configs.
  const implicitDefault: GroupSpec = { name: DEFAULT_GROUP, description: "", tags: [], configs: [] };
  const withDefault = (gs: readonly GroupSpec[]) => new Map([[DEFAULT_GROUP, implicitDefault], ...gs.map((g): [string, GroupSpec] => [g.name, g])]);
  const baseGroups = withDefault(base.groups);
  const headGroups = withDefault(head.groups);
  for (const name of [...new Set([...baseGroups.keys(), ...headGroups.keys()])].sort()) {
    const before = baseGroups.get(name);
    const after = headGroups.get(name);
    const unparsable = !after && (head.files?.has(`agent_groups/${name}.yaml`) ?? false);
    const moved = (list: (g: GroupSpec) => readonly string[]) => {
      const was = new Set(before ? list(before) : []);
      const now = new Set(unparsable ? was : after ? list(after) : []);
      return { gained: [...now].filter((c) => !was.has(c)).sort(), lost: [...was].filter((c) => !now.has(c)).sort() };
    };
    const { gained, lost } = moved(PIPELINE.appliedBy);
    const { gained: instanceGained, lost: instanceLost } = moved(INSTANCE.appliedBy);
    const tagsBefore = before?.tags ?? [];
    const tagsAfter = unparsable ? tagsBefore : (after?.tags ?? []);
    // default selects every agent whatever its tags say.
    const tagsChanged = name !== DEFAULT_GROUP && !sameTags(tagsBefore, tagsAfter);
    const descriptionChanged = !!before && !!after && before !== implicitDefault && after !== implicitDefault && before.description !== after.description;
    const kind = unparsable ? "unparsable" : !before ? "added" : !after ? "removed" : "changed";
    const membership = gained.length + lost.length + instanceGained.length + instanceLost.length;
    if (kind === "changed" && membership === 0 && !tagsChanged && !descriptionChanged) continue;
    groups.push({ name, kind, gained, lost, instanceGained, instanceLost, tagsBefore, tagsAfter, tagsChanged, descriptionChanged });
  }
  return { configs, instanceConfigs, groups };
}
