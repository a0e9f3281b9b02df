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

/** Whether only spaces and tabs stand in `line` from `from` on. */
const blankFrom = (line: string, from: number) => {
  for (let i = from; i < line.length; i++) if (line[i] !== " " && line[i] !== "\t") return false;
  return true;
};

/** A line that decides nothing: blank, a comment, a YAML directive (%YAML) or a document marker. */
function isNeutral(line: string): boolean {
  let i = 0;
  while (line[i] === " " || line[i] === "\t") i++;
  if (i === line.length || line[i] === "#" || line.startsWith("%")) return true;
  return (line.startsWith("---") || line.startsWith("...")) && blankFrom(line, 3);
}

/** A character a plain (unquoted) YAML key may start with: not white space, not a YAML indicator. */
const PLAIN_START = /[^\s\-?:,[\]{}#&*!|>'"%@`]/;

/**
 * Whether a line is `key:` then a space, a tab or the end of the line: how every YAML mapping
 * starts. The key is quoted, or plain text not starting with a YAML indicator. A scan, not a
 * regular expression: content is untrusted and unbounded, and the pattern this replaces
 * backtracked on a line of spaces (quadratic: 80,000 spaces froze the server for seconds).
 */
export function isKeyLine(line: string): boolean {
  let i = 0;
  while (line[i] === " " || line[i] === "\t") i++;
  const first = line[i];
  if (first === undefined) return false;
  const colonAt = (from: number) => {
    for (let j = line.indexOf(":", from); j >= 0; j = line.indexOf(":", j + 1)) {
      const next = line[j + 1];
      if (next === undefined || next === " " || next === "\t") return j;
    }
    return -1;
  };
  if (first === '"' || first === "'") {
    const close = line.indexOf(first, i + 1);
    if (close < 0) return false;
    let j = close + 1;
    while (line[j] === " " || line[j] === "\t") j++;
    const next = line[j + 1];
    return line[j] === ":" && (next === undefined || next === " " || next === "\t");
  }
  // A plain key: any ": " after its first character ends it.
  return PLAIN_START.test(first) && colonAt(i + 1) >= 0;
}

/**
 * The rule for "meant as a pipeline": a declared format wins; without one, the first line that
 * is not blank, a `#` comment, a `%` directive or a `---`/`...` marker decides: it starts with
 * `{` (a JSON object or a YAML flow mapping) or is a `key:` line → yaml; anything else → text.
 * Linear in the content: each line is looked at once, by scans (no regular expression).
 */
export function contentFormat(content: string, declared?: ContentFormat): ContentFormat {
  if (declared !== undefined) return declared;
  let start = 0;
  while (start <= content.length) {
    let end = content.indexOf("\n", start);
    if (end < 0) end = content.length;
    const line = content.charCodeAt(end - 1) === 13 && end > start ? content.slice(start, end - 1) : content.slice(start, end);
    if (!isNeutral(line)) return line.trimStart().startsWith("{") || isKeyLine(line) ? "yaml" : "text";
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
