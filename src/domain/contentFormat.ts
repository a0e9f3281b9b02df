/**
 * How a config's content is checked. Alpha agents take content as opaque text, so plain text is
 * legitimate; content meant as a pipeline (what v1 and v2 agents parse, as YAML or JSON) is
 * parsed by the server and refused when it does not parse, with the line and column.
 *
 * - `yaml`: a YAML mapping (a JSON object is one too);
 * - `json`: a JSON object, strictly;
 * - `text`: not checked.
 */
export const CONTENT_FORMATS = ["yaml", "json", "text"] as const;
export type ContentFormat = (typeof CONTENT_FORMATS)[number];

export const isContentFormat = (s: string): s is ContentFormat => (CONTENT_FORMATS as readonly string[]).includes(s);

/** Where a content's problem is, counted within the content (1-based), and what it is. */
export interface ContentProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/**
 * Checks content by the rule below (contentFormat), with the format its file declares if any;
 * the store implements it with its YAML parser.
 */
export type ContentCheck = (content: string, declared: ContentFormat | undefined) => ContentProblem | undefined;

// A line that decides nothing: blank, a comment, a YAML directive (%YAML) or a document marker.
const NEUTRAL = /^[ \t]*(#.*)?$|^%|^(---|\.\.\.)[ \t]*$/;
// `key:` then a space, a tab or the end of the line: how every YAML mapping starts. The key is
// quoted, or plain text not starting with a YAML indicator (- ? : , [ ] { } # & * ! | > ' " % @ `).
const KEY_LINE = /^[ \t]*(?:"[^"]*"|'[^']*'|[^\s\-?:,[\]{}#&*!|>'"%@`][^\n]*?)[ \t]*:(?:[ \t]|$)/;

/**
 * The rule for "meant as a pipeline": a declared format wins; without one, the first line that
 * is not blank, a `#` comment, a `%` directive or a `---`/`...` marker decides: it starts with
 * `{` (a JSON object or a YAML flow mapping) or is a `key:` line → yaml; anything else → text.
 */
export function contentFormat(content: string, declared?: ContentFormat): ContentFormat {
  if (declared !== undefined) return declared;
  let start = 0;
  while (start <= content.length) {
    let end = content.indexOf("\n", start);
    if (end < 0) end = content.length;
    const line = content.slice(start, end).replace(/\r$/, "");
    if (!NEUTRAL.test(line)) return line.trimStart().startsWith("{") || KEY_LINE.test(line) ? "yaml" : "text";
    start = end + 1;
  }
  return "text";
}

/**
 * The content's problem as the User API says it: which config, where in the content, and how
 * to keep plain text that only looks like a pipeline.
 */
export function contentProblemMessage(kind: "config" | "instance config", name: string, p: ContentProblem, declared: ContentFormat | undefined): string {
  const file = `${kind === "config" ? "configs" : "instance_configs"}/${name}.yaml`;
  const hint = declared === undefined ? ` If it is plain text, not a pipeline, declare format: text in ${file} (other plain text is accepted as it is).` : "";
  return `Invalid content of ${kind} ${name}: line ${p.line}, column ${p.column} of the content: ${p.message}.${hint}`;
}
