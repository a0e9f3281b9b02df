// Markdown for text that comes from a repository (names, pipeline content, problem messages):
// nothing in it can close a code span or a fence, break a table, or become HTML.

/** A collapsed block: the summary (escaped) shown, the body revealed on a click. */
export function details(summary: string, body: string[]): string[] {
  return [`<details><summary>${escapeHtml(summary)}</summary>`, "", ...body, "", "</details>"];
}

/** A diff in a fenced block, with a line saying how many lines were left out. */
export function fenced(text: string, omitted: number): string[] {
  // A fence longer than any backtick run in the text, so pipeline text cannot close it.
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  const out = [`${fence}diff`, ...text.replace(/\n$/, "").split("\n"), fence];
  if (omitted > 0) out.push(`… ${omitted} more diff line(s) not shown`);
  return out;
}

/** Inline code safe inside a table cell: pipes escaped, newlines flattened, backticks fenced. */
export function code(s: string): string {
  const flat = s.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
  if (flat === "") return '""';
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((r) => r.length));
  const tick = "`".repeat(longest + 1);
  return longest > 0 ? `${tick} ${flat} ${tick}` : `${tick}${flat}${tick}`;
}

/** Text in a Markdown line: Markdown's own characters escaped, newlines flattened. */
export function escapeText(s: string): string {
  return s.replace(/\r?\n/g, " ").replace(/([\\`*_<>[\]|])/g, "\\$1");
}

/** Text inside an HTML element of the Markdown. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
