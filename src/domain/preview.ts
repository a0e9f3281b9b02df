import { unifiedDiff } from "./lineDiff.ts";
import { DEFAULT_GROUP, type ConfigSpec, type GroupSpec, type InstanceConfigSpec, type Problem, type Tag } from "./types.ts";
import { byName } from "./names.ts";

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
interface Kind<S, F extends string> {
  readonly dir: string;
  readonly fields: readonly (readonly [F, (s: S) => string])[];
  readonly appliedBy: (g: GroupSpec) => readonly string[];
}

const PIPELINE: Kind<ConfigSpec, ConfigField> = {
  dir: "configs",
  fields: [["agent_type", (s) => s.agentType], ["description", (s) => s.description], ["content", (s) => s.content]],
  appliedBy: (g) => g.configs,
};

const INSTANCE: Kind<InstanceConfigSpec, InstanceConfigField> = {
  dir: "instance_configs",
  fields: [["description", (s) => s.description], ["content", (s) => s.content]],
  appliedBy: (g) => g.instanceConfigs ?? [],
};

function reachOf<S, F extends string>(kind: Kind<S, F>, groups: readonly GroupSpec[], config: string): GroupRef[] {
  return groups.filter((g) => kind.appliedBy(g).includes(config)).map((g) => ({ name: g.name, tags: g.tags })).sort(byName);
}

function diffSpecs<S extends { name: string }, F extends string>(kind: Kind<S, F>, base: readonly S[], head: readonly S[], sides: { base: PreviewSide; head: PreviewSide }): ConfigChange<S, F>[] {
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

export interface PreviewOptions {
  /** How the two sides are named in the heading, e.g. a short commit hash and "working tree". */
  readonly baseLabel: string;
  readonly headLabel: string;
  /** The head's validation problems; the preview says whether the server would serve it. */
  readonly problems: readonly Problem[];
  /** Served anyway, but worth a reviewer's eye (e.g. configs v2 agents cannot take). */
  readonly warnings?: readonly Problem[];
  readonly counts?: { readonly configs: number; readonly groups: number; readonly instanceConfigs?: number };
  /** Lines of content diff shown per config. */
  readonly maxDiffLines?: number;
  /** Configs (and, separately, instance configs) given a content diff; the rest are listed only (PR comments have a size limit). */
  readonly maxDiffs?: number;
  readonly maxProblems?: number;
}

/** A Markdown summary of a change set, fit for a pull-request comment. */
export function renderPreview(changes: ChangeSet, options: PreviewOptions): string {
  const { maxDiffLines = 40, maxDiffs = 20, maxProblems = 20 } = options;
  const out: string[] = ["## configserver change preview", ""];
  const tally = (list: readonly { kind: string }[]) => {
    const count = (kind: string) => list.filter((c) => c.kind === kind).length;
    const parts = [`${count("added")} added`, `${count("changed")} changed`, `${count("removed")} removed`];
    if (count("unparsable") > 0) parts.push(`${count("unparsable")} failing validation`);
    return parts.join(", ");
  };
  const instances = changes.instanceConfigs.length > 0 ? `; instance configs ${tally(changes.instanceConfigs)}` : "";
  out.push(`${code(options.baseLabel)} → ${code(options.headLabel)}: configs ${tally(changes.configs)}${instances}; ${changes.groups.length} agent group(s) changed.`, "");

  const listed = (items: readonly Problem[]) => {
    for (const p of items.slice(0, maxProblems)) out.push(`> - ${code(`${p.file}:${p.line}:${p.column}`)} ${escapeText(p.message)}`);
    if (items.length > maxProblems) out.push(`> - … and ${items.length - maxProblems} more (run \`configserver validate\`)`);
  };
  if (options.problems.length > 0) {
    out.push(`> [!CAUTION]`, `> **Validation failed: ${options.problems.length} problem(s).** The server refuses to serve a commit like this; it keeps serving the previous one.`);
    listed(options.problems);
  } else {
    const c = options.counts;
    const counted = c ? `: ${c.configs} config(s), ${c.instanceConfigs !== undefined ? `${c.instanceConfigs} instance config(s), ` : ""}${c.groups} agent group(s)` : "";
    out.push(`Validation passed${counted}.`);
  }
  out.push("");
  const warnings = options.warnings ?? [];
  if (warnings.length > 0) {
    out.push(`> [!WARNING]`, `> **${warnings.length} warning(s).** The server serves this, but:`);
    listed(warnings);
    out.push("");
  }

  if (changes.configs.length === 0 && changes.instanceConfigs.length === 0 && changes.groups.length === 0) {
    out.push("No config, instance config or agent group changes: agents will see no difference.");
    return out.join("\n") + "\n";
  }

  const section = <S extends { content: string }, F extends string>(kind: Kind<S, F>, list: readonly ConfigChange<S, F>[], title: string, column: string, note?: string) => {
    if (list.length === 0) return;
    out.push(`### ${title}`, "");
    if (note) out.push(note, "");
    out.push(`| ${column} | Change | Reaches agents in |`, "|---|---|---|");
    for (const c of list) out.push(`| ${code(c.name)} | ${configChangeText(c)} | ${reachText(c)} |`);
    out.push("");
    let shown = 0;
    for (const c of list) {
      const detail = configDetail(kind, c, maxDiffLines);
      if (!detail) continue;
      if (shown++ >= maxDiffs) {
        out.push(`*Content diffs of further ${title.toLowerCase()} are left out; run \`git diff\` to see them.*`, "");
        break;
      }
      out.push(...detail, "");
    }
  };
  section(PIPELINE, changes.configs, "Configs", "Config");
  section(INSTANCE, changes.instanceConfigs, "Instance configs", "Instance config", "Instance configs are the agent process's own settings; only v2 agents (LoongCollector) receive them.");

  if (changes.groups.length > 0) {
    // The instance columns appear only when some group's instance configs move, so repositories without any keep a narrow table.
    const withInstances = changes.groups.some((g) => g.instanceGained.length + g.instanceLost.length > 0);
    const columns = ["Group", "Change", "Selects agents with", "Configs gained", "Configs lost", ...(withInstances ? ["Instance configs gained", "Instance configs lost"] : [])];
    out.push("### Agent groups", "", `| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`);
    for (const g of changes.groups) {
      const kind = groupChangeText(g);
      const selector = g.tagsChanged && g.kind === "changed" ? `${selectorText(g.name, g.tagsBefore)} → ${selectorText(g.name, g.tagsAfter)}` : selectorText(g.name, g.kind === "removed" ? g.tagsBefore : g.tagsAfter);
      const list = (names: readonly string[]) => (names.length ? names.map(code).join(", ") : "—");
      const cells = [code(g.name), kind, selector, list(g.gained), list(g.lost), ...(withInstances ? [list(g.instanceGained), list(g.instanceLost)] : [])];
      out.push(`| ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n") + "\n";
}

function configChangeText(c: ConfigChange<unknown, string>): string {
  switch (c.kind) {
    case "changed":
      return `changed: ${c.fields.join(", ")}`;
    case "unparsable":
      return "fails validation";
    default:
      return c.kind;
  }
}

function groupChangeText(g: GroupChange): string {
  if (g.kind === "unparsable") return "fails validation";
  if (g.kind !== "changed") return g.kind;
  const what = [
    g.gained.length + g.lost.length > 0 ? "configs" : "",
    g.instanceGained.length + g.instanceLost.length > 0 ? "instance configs" : "",
    g.tagsChanged ? "tags" : "",
    g.descriptionChanged ? "description" : "",
  ];
  return `changed: ${what.filter((w) => w !== "").join(", ")}`;
}

function reachText(c: ConfigChange<unknown, string>): string {
  if (c.reach.length === 0) return c.kind === "removed" ? "no group applied it" : "*no group applies it: no agent receives it*";
  const groups = c.reach.map((g) => `${code(g.name)} (${selectorText(g.name, g.tags)})`).join(" · ");
  return c.kind === "removed" ? `was in ${groups}: those agents drop it` : groups;
}

/** Which agents a group selects: any one tag matches; `default` selects every agent. */
function selectorText(name: string, tags: readonly Tag[]): string {
  if (name === DEFAULT_GROUP) return "all agents";
  if (tags.length === 0) return "no tags: selects no agent";
  return (tags.length > 1 ? "any of " : "") + tags.map((t) => code(`${t.name}=${t.value}`)).join(", ");
}

function configDetail<S extends { content: string }, F extends string>(kind: Kind<S, F>, c: ConfigChange<S, F>, maxLines: number): string[] | undefined {
  if (c.kind === "changed") {
    const b = c.before as S;
    const a = c.after as S;
    const lines: string[] = [];
    for (const [field, get] of kind.fields) if (field !== "content" && c.fields.includes(field)) lines.push(`- ${field}: ${code(get(b))} → ${code(get(a))}`);
    if (c.fields.includes("content" as F)) {
      const d = unifiedDiff(b.content, a.content, { maxLines });
      lines.push(...fenced(d.text, d.omitted));
      return details(`${c.name}: content diff (+${d.added} −${d.removed})`, lines);
    }
    return details(`${c.name}: ${c.fields.join(", ")}`, lines);
  }
  if (c.kind === "added") {
    const d = unifiedDiff("", (c.after as S).content, { maxLines, context: 0 });
    return details(`${c.name}: new content (${d.added} lines)`, fenced(d.text, d.omitted));
  }
  return undefined;
}

function details(summary: string, body: string[]): string[] {
  return [`<details><summary>${escapeHtml(summary)}</summary>`, "", ...body, "", "</details>"];
}

function fenced(text: string, omitted: number): string[] {
  // A fence longer than any backtick run in the text, so pipeline text cannot close it.
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  const out = [`${fence}diff`, ...text.replace(/\n$/, "").split("\n"), fence];
  if (omitted > 0) out.push(`… ${omitted} more diff line(s) not shown`);
  return out;
}

/** Inline code safe inside a table cell: pipes escaped, newlines flattened, backticks fenced. */
function code(s: string): string {
  const flat = s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  if (flat === "") return '""';
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const tick = "`".repeat(longest + 1);
  return longest > 0 ? `${tick} ${flat} ${tick}` : `${tick}${flat}${tick}`;
}

function escapeText(s: string): string {
  return s.replace(/\r?\n/g, " ").replace(/([\\`*_<>[\]|])/g, "\\$1");
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
