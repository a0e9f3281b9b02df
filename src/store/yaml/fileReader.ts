import { isMap, isScalar, isSeq, LineCounter, Scalar, type Node, type Pair } from "yaml";
import { CONTENT_FORMATS, isContentFormat, type ContentFormat } from "../../domain/contentFormat.ts";
import type { Pos, Problem } from "../../domain/types.ts";
import { closestName } from "./closestName.ts";
import { parseYaml } from "./parseYaml.ts";

/**
 * Where a config's content stands in its file, to place a problem found inside the content.
 * `block` is set for a literal block (`content: |`), whose lines are the file's lines one for one:
 * content line L, column C is file line `block.line + L - 1`, column `block.indent + C`. Other
 * styles (quoted, folded) have no such mapping: their problems stand at `pos`.
 */
export interface ContentPlace {
  readonly pos: Pos;
  readonly block?: { readonly line: number; readonly indent: number };
}

/** A file's top-level fields by name. */
export type Fields = Map<string, Pair<unknown, unknown>>;

/**
 * One YAML file read for checking: its document with syntax errors as problems (placed by line
 * and column, with a hint for the mistakes people make), and the typed field readers every file
 * parser uses, each reporting what is wrong where it stands.
 */
export class FileReader {
  readonly problems: Problem[] = [];
  private readonly lines = new LineCounter();
  readonly doc;

  constructor(
    readonly file: string,
    private readonly text: string,
  ) {
    this.doc = parseYaml(text, { lineCounter: this.lines, prettyErrors: false, strict: true });
    for (const e of this.doc.errors) {
      // prettyErrors is off, so linePos is unset: place the error from its offset ourselves.
      const p = this.lines.linePos(e.pos[0]);
      this.problems.push({ file, line: p.line, column: p.col, message: `YAML syntax error: ${firstLine(e.message)}${syntaxHint(e.code, text, e.pos[0])}` });
    }
  }

  pos(node: Node | null | undefined): Pos {
    const offset = node?.range?.[0] ?? 0;
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  problem(at: Pos, message: string): void {
    this.problems.push({ file: this.file, line: at.line, column: at.column, message });
  }

  /** The top-level mapping, its unknown keys reported. */
  fields(allowed: readonly string[]): Fields | undefined {
    if (this.doc.errors.length > 0) return undefined;
    const root = this.doc.contents;
    if (!isMap(root)) {
      this.problem(this.pos(root), "the file must be a YAML mapping with the fields " + allowed.join(", "));
      return undefined;
    }
    const out: Fields = new Map();
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (!allowed.includes(key)) {
        const guess = closestName(key, allowed);
        const fix = guess ? `did you mean "${guess}"? ` : "remove it; ";
        this.problem(this.pos(pair.key as Node), `unknown field ${JSON.stringify(key)}: ${fix}allowed fields: ${allowed.join(", ")}`);
        continue;
      }
      out.set(key, pair);
    }
    return out;
  }

  string(fields: Fields, key: string, required: boolean): { value: string; pos: Pos } {
    const pair = fields.get(key);
    const at = this.pos((pair?.value ?? pair?.key ?? this.doc.contents) as Node);
    if (!pair || pair.value == null || (isScalar(pair.value) && pair.value.value == null)) {
      if (required) this.problem(at, `missing required field ${JSON.stringify(key)}: add a line "${key}: ${key === "content" ? "|" : "<value>"}"${key === "content" ? " followed by the pipeline text, indented" : ""}`);
      return { value: "", pos: at };
    }
    if (!isScalar(pair.value) || typeof pair.value.value !== "string") {
      this.problem(at, `field ${JSON.stringify(key)} must be a string (quote it if it looks like a number or boolean)`);
      return { value: "", pos: at };
    }
    return { value: pair.value.value, pos: at };
  }

  /** The optional `format:` field: one of CONTENT_FORMATS. */
  format(fields: Fields): ContentFormat | undefined {
    if (!fields.has("format")) return undefined;
    const f = this.string(fields, "format", false);
    if (f.value === "" || isContentFormat(f.value)) return f.value === "" ? undefined : f.value;
    this.problem(f.pos, `field "format" must be one of ${CONTENT_FORMATS.join(", ")} (how the content is checked), got ${JSON.stringify(f.value)}`);
    return undefined;
  }

  /** Where the content's value is; for a literal block, how its lines map to the file's. */
  place(fields: Fields, pos: Pos): ContentPlace {
    const value = fields.get("content")?.value;
    if (!isScalar(value) || value.type !== Scalar.BLOCK_LITERAL || typeof value.value !== "string" || !value.range) return { pos };
    // The value starts at the "|" header; the content's first line is the next line of the file.
    const line = this.lines.linePos(value.range[0]).line + 1;
    const source = this.text.split("\n");
    const content = value.value.split("\n");
    const first = content.findIndex((l) => l !== "");
    if (first < 0) return { pos };
    const src = (source[line - 1 + first] ?? "").replace(/\r$/, "");
    const indent = src.length - (content[first] as string).length;
    return indent >= 0 && src.endsWith(content[first] as string) ? { pos, block: { line, indent } } : { pos };
  }

  list(fields: Fields, key: string): Node[] {
    const pair = fields.get(key);
    if (!pair || pair.value == null || (isScalar(pair.value) && pair.value.value == null)) return [];
    if (!isSeq(pair.value)) {
      this.problem(this.pos(pair.value as Node), `field ${JSON.stringify(key)} must be a list`);
      return [];
    }
    return pair.value.items as Node[];
  }
}

export function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

/** How to fix the syntax errors people actually make in these files. */
function syntaxHint(code: string, text: string, offset: number): string {
  switch (code) {
    case "DUPLICATE_KEY": {
      const key = /^[^:\n]*/.exec(text.slice(offset))?.[0].trim();
      return ` (${key ? `"${key}"` : "this key"} appears twice in the same mapping: keep one)`;
    }
    case "TAB_AS_INDENT":
      return " (indent with spaces, not tabs)";
    case "BLOCK_AS_IMPLICIT_KEY":
    case "BAD_INDENT":
    case "MISSING_CHAR":
    case "UNEXPECTED_TOKEN":
      return " (check the indentation here: every line of a block such as content: | must be indented more than its key, and quotes and brackets must be closed)";
    default:
      return "";
  }
}
