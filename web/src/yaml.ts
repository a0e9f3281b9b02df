/** One highlighted piece of a line; rendered as text in a span with class `t-<kind>`. */
export interface Token {
  readonly kind: "key" | "string" | "number" | "bool" | "comment" | "punct" | "block" | "plain";
  readonly text: string;
}

const SCALAR_KIND = (v: string): Token["kind"] => {
  if (/^(true|false|yes|no|on|off|null|~)$/i.test(v)) return "bool";
  if (/^[-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+|\.inf|\.nan)$/.test(v)) return "number";
  if (/^["']/.test(v)) return "string";
  if (/^[|>][-+0-9]*$/.test(v)) return "block";
  return "plain";
};

function value(rest: string, out: Token[]): void {
  // A comment starts at " #" outside quotes.
  let i = 0;
  let quote = "";
  for (; i < rest.length; i++) {
    const c = rest[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || rest[i - 1] === " ")) break;
  }
  const body = rest.slice(0, i);
  const trimmed = body.trimEnd();
  if (trimmed) out.push({ kind: SCALAR_KIND(trimmed.trim()), text: trimmed });
  if (body.length > trimmed.length) out.push({ kind: "plain", text: body.slice(trimmed.length) });
  if (i < rest.length) out.push({ kind: "comment", text: rest.slice(i) });
}

/**
 * A line-by-line YAML tokenizer, good enough to colour config files and pipeline content (keys,
 * scalars, comments, list dashes, block scalars). It never changes the text: the tokens of a
 * line concatenate to the line.
 */
export function tokenizeLine(line: string): Token[] {
  const out: Token[] = [];
  const indent = /^\s*/.exec(line)?.[0] ?? "";
  if (indent) out.push({ kind: "plain", text: indent });
  let rest = line.slice(indent.length);
  if (rest.startsWith("#")) return [...out, { kind: "comment", text: rest }];
  while (rest.startsWith("- ") || rest === "-") {
    out.push({ kind: "punct", text: rest.slice(0, 2) });
    rest = rest.slice(2);
  }
  const key = /^((?:"[^"]*"|'[^']*'|[^\s#'"{[][^:#]*?))(\s*:)(\s|$)/.exec(rest);
  if (key) {
    out.push({ kind: "key", text: key[1] as string }, { kind: "punct", text: key[2] as string });
    rest = rest.slice((key[1] as string).length + (key[2] as string).length);
  }
  if (rest) value(rest, out);
  return out;
}
