import { unifiedDiff } from "./lineDiff.ts";
import { DEFAULT_GROUP, type ConfigSpec, type GroupSpec, type Problem, type Tag } from "./types.ts";

/** One side of a comparison: what parsed, plus every state file present (parsed or not). */
export interface PreviewSide {
  readonly configs: readonly ConfigSpec[];
  readonly groups: readonly GroupSpec[];
  /** Paths of state files present; a file that is present but did not parse is not "removed". */
  readonly files?: ReadonlySet<string>;
}

export type ConfigField = "agent_type" | "description" | "content";

/** A group as a selector: its name and the tags that pick its agents. */
export interface GroupRef {
  readonly name: string;
  readonly tags: readonly Tag[];
}

export interface ConfigChange {
  readonly name: string;
  /** "unparsable": the file is there but fails validation, so what it will hold is unknown. */
  readonly kind: "added" | "changed" | "removed" | "unparsable";
  readonly fields: readonly ConfigField[];
  readonly before?: ConfigSpec;
  readonly after?: ConfigSpec;
  /** Groups applying the config after the change (before it, for a removed config). */
  readonly reach: readonly GroupRef[];
}

export interface GroupChange {
  readonly name: string;
  readonly kind: "added" | "changed" | "removed" | "unparsable";
  readonly gained: readonly string[];
  readonly lost: readonly string[];
  readonly tagsBefore: readonly Tag[];
  readonly tagsAfter: readonly Tag[];
  readonly tagsChanged: boolean;
  readonly descriptionChanged: boolean;
}

export interface ChangeSet {
  readonly configs: readonly ConfigChange[];
  readonly groups: readonly GroupChange[];
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const sameTags = (a: readonly Tag[], b: readonly Tag[]) => a.length === b.length && a.every((t, i) => t.name === b[i]?.name && t.value === b[i]?.value);

function reachOf(groups: readonly GroupSpec[], config: string): GroupRef[] {
  return groups.filter((g) => g.configs.includes(config)).map((g) => ({ name: g.name, tags: g.tags })).sort(byName);
}

/** What `head` changes relative to `base`: configs and groups added, changed, removed. */
export function diffRepoContent(base: PreviewSide, head: PreviewSide): ChangeSet {
  const configs: ConfigChange[] = [];
  const baseConfigs = new Map(base.configs.map((c) => [c.name, c]));
  const headConfigs = new Map(head.configs.map((c) => [c.name, c]));
  for (const name of [...new Set([...baseConfigs.keys(), ...headConfigs.keys()])].sort()) {
    const before = baseConfigs.get(name);
    const after = headConfigs.get(name);
    if (before && after) {
      const fields: ConfigField[] = [];
      if (before.agentType !== after.agentType) fields.push("agent_type");
      if (before.description !== after.description) fields.push("description");
      if (before.content !== after.content) fields.push("content");
      if (fields.length > 0) configs.push({ name, kind: "changed", fields, before, after, reach: reachOf(head.groups, name) });
    } else if (after) {
      configs.push({ name, kind: "added", fields: [], after, reach: reachOf(head.groups, name) });
    } else if (before) {
      const present = head.files?.has(`configs/${name}.yaml`) ?? false;
      configs.push({ name, kind: present ? "unparsable" : "removed", fields: [], before, reach: reachOf(present ? head.groups : base.groups, name) });
    }
  }

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
    const was = new Set(before?.configs ?? []);
    const now = new Set(unparsable ? was : (after?.configs ?? []));
    const gained = [...now].filter((c) => !was.has(c)).sort();
    const lost = [...was].filter((c) => !now.has(c)).sort();
    const tagsBefore = before?.tags ?? [];
    const tagsAfter = unparsable ? tagsBefore : (after?.tags ?? []);
    // default selects every agent whatever its tags say.
    const tagsChanged = name !== DEFAULT_GROUP && !sameTags(tagsBefore, tagsAfter);
    const descriptionChanged = !!before && !!after && before !== implicitDefault && after !== implicitDefault && before.description !== after.description;
    const kind = unparsable ? "unparsable" : !before ? "added" : !after ? "removed" : "changed";
    if (kind === "changed" && gained.length === 0 && lost.length === 0 && !tagsChanged && !descriptionChanged) continue;
    groups.push({ name, kind, gained, lost, tagsBefore, tagsAfter, tagsChanged, descriptionChanged });
  }
  return { configs, groups };
}

export interface PreviewOptions {
  /** How the two sides are named in the heading, e.g. a short commit hash and "working tree". */
  readonly baseLabel: string;
  readonly headLabel: string;
  /** The head's validation problems; the preview says whether the server would serve it. */
  readonly problems: readonly Problem[];
  readonly counts?: { readonly configs: number; readonly groups: number };
  /** Lines of content diff shown per config. */
  readonly maxDiffLines?: number;
  /** Configs given a content diff; the rest are listed only (PR comments have a size limit). */
  readonly maxDiffs?: number;
  readonly maxProblems?: number;
}

/** A Markdown summary of a change set, fit for a pull-request comment. */
export function renderPreview(changes: ChangeSet, options: PreviewOptions): string {
  const { maxDiffLines = 40, maxDiffs = 20, maxProblems = 20 } = options;
  const out: string[] = ["## configserver change preview", ""];
  const count = (kind: string) => changes.configs.filter((c) => c.kind === kind).length;
  const parts = [`${count("added")} added`, `${count("changed")} changed`, `${count("removed")} removed`];
  if (count("unparsable") > 0) parts.push(`${count("unparsable")} failing validation`);
  out.push(`${code(options.baseLabel)} → ${code(options.headLabel)}: configs ${parts.join(", ")}; ${changes.groups.length} agent group(s) changed.`, "");

  if (options.problems.length > 0) {
    out.push(`> [!CAUTION]`, `> **Validation failed: ${options.problems.length} problem(s).** The server refuses to serve a commit like this; it keeps serving the previous one.`);
    for (const p of options.problems.slice(0, maxProblems)) out.push(`> - ${code(`${p.file}:${p.line}:${p.column}`)} ${escapeText(p.message)}`);
    if (options.problems.length > maxProblems) out.push(`> - … and ${options.problems.length - maxProblems} more (run \`configserver validate\`)`);
  } else {
    const c = options.counts;
    out.push(`Validation passed${c ? `: ${c.configs} config(s), ${c.groups} agent group(s)` : ""}.`);
  }
  out.push("");

  if (changes.configs.length === 0 && changes.groups.length === 0) {
    out.push("No config or agent group changes: agents will see no difference.");
    return out.join("\n") + "\n";
  }

  if (changes.configs.length > 0) {
    out.push("### Configs", "", "| Config | Change | Reaches agents in |", "|---|---|---|");
    for (const c of changes.configs) out.push(`| ${code(c.name)} | ${configChangeText(c)} | ${reachText(c)} |`);
    out.push("");
    let shown = 0;
    for (const c of changes.configs) {
      const detail = configDetail(c, maxDiffLines);
      if (!detail) continue;
      if (shown++ >= maxDiffs) {
        out.push(`*Content diffs of further configs are left out; run \`git diff\` to see them.*`, "");
        break;
      }
      out.push(...detail, "");
    }
  }

  if (changes.groups.length > 0) {
    out.push("### Agent groups", "", "| Group | Change | Selects agents with | Configs gained | Configs lost |", "|---|---|---|---|---|");
    for (const g of changes.groups) {
      const kind = groupChangeText(g);
      const selector = g.tagsChanged && g.kind === "changed" ? `${selectorText(g.name, g.tagsBefore)} → ${selectorText(g.name, g.tagsAfter)}` : selectorText(g.name, g.kind === "removed" ? g.tagsBefore : g.tagsAfter);
      const list = (names: readonly string[]) => (names.length ? names.map(code).join(", ") : "—");
      out.push(`| ${code(g.name)} | ${kind} | ${selector} | ${list(g.gained)} | ${list(g.lost)} |`);
    }
    out.push("");
  }
  return out.join("\n") + "\n";
}

function configChangeText(c: ConfigChange): string {
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
  const what = [g.gained.length + g.lost.length > 0 ? "configs" : "", g.tagsChanged ? "tags" : "", g.descriptionChanged ? "description" : ""];
  return `changed: ${what.filter((w) => w !== "").join(", ")}`;
}

function reachText(c: ConfigChange): string {
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

function configDetail(c: ConfigChange, maxLines: number): string[] | undefined {
  const lines: string[] = [];
  if (c.kind === "changed") {
    const b = c.before as ConfigSpec;
    const a = c.after as ConfigSpec;
    if (c.fields.includes("agent_type")) lines.push(`- agent_type: ${code(b.agentType)} → ${code(a.agentType)}`);
    if (c.fields.includes("description")) lines.push(`- description: ${code(b.description)} → ${code(a.description)}`);
    if (c.fields.includes("content")) {
      const d = unifiedDiff(b.content, a.content, { maxLines });
      lines.push(...fenced(d.text, d.omitted));
      return details(`${c.name}: content diff (+${d.added} −${d.removed})`, lines);
    }
    return details(`${c.name}: ${c.fields.join(", ")}`, lines);
  }
  if (c.kind === "added") {
    const d = unifiedDiff("", (c.after as ConfigSpec).content, { maxLines, context: 0 });
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
