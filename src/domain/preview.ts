import { INSTANCE, PIPELINE, type ChangeSet, type ConfigChange, type ConfigKind, type GroupChange } from "./changeSet.ts";
import { unifiedDiff } from "./lineDiff.ts";
import { code, details, escapeText, fenced } from "./markdownText.ts";
import { DEFAULT_GROUP, type Problem, type Tag } from "./types.ts";

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

  const section = <S extends { content: string }, F extends string>(kind: ConfigKind<S, F>, list: readonly ConfigChange<S, F>[], title: string, column: string, note?: string) => {
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

function configDetail<S extends { content: string }, F extends string>(kind: ConfigKind<S, F>, c: ConfigChange<S, F>, maxLines: number): string[] | undefined {
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
