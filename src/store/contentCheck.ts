import { isMap, LineCounter, type Document } from "yaml";
import { contentFormat, type ContentCheck, type ContentFormat, type ContentProblem } from "../domain/contentFormat.ts";
import { plainSecretMessage } from "../domain/secretFields.ts";
import type { Problem } from "../domain/types.ts";
import type { ContentPlace } from "./yaml/fileReader.ts";
import { expandContent, tooLarge } from "./yaml/expandContent.ts";
import { parseYaml } from "./yaml/parseYaml.ts";
import { expansionLimits, type DetailLimits } from "./yaml/pipelineJson.ts";
import { plainSecrets } from "./yaml/plainSecrets.ts";

/** How credentials written in plain text are treated: a warning, or a problem that refuses the config. */
export type SecretsMode = "warn" | "strict";

/** The settings content is checked by (--max-config-size, --secrets). */
export interface ContentLimits extends DetailLimits {
  readonly secrets: SecretsMode;
}

const firstLine = (s: string) => s.split("\n")[0] ?? s;

/** 1-based line and column of a character offset in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split("\n").length;
  return { line, column: before.length - before.lastIndexOf("\n") };
}

function parseContent(content: string) {
  const lines = new LineCounter();
  // The parse pipelineJson (yaml/pipelineJson.ts) uses: content this check passes converts.
  const doc = parseYaml(content, { lineCounter: lines, prettyErrors: false });
  return { doc, at: (offset: number) => ({ line: lines.linePos(offset).line, column: lines.linePos(offset).col }) };
}

const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);

/** What a content's check found: the problem that refuses it, if any, and warnings. */
export interface ContentInspection {
  readonly problem?: ContentProblem;
  readonly warnings: readonly ContentProblem[];
}

/**
 * Checks a content by the rule of src/domain/contentFormat.ts: content meant as a pipeline must
 * parse (YAML, or strict JSON when the file says `format: json`) to a mapping whose JSON detail
 * fits --max-config-size; credentials in plain text (domain/secretFields.ts) are warnings, or
 * the problem with `secrets: strict`. Plain text passes. Linear in the content throughout.
 */
export function inspectContent(content: string, declared: ContentFormat | undefined, limits: ContentLimits): ContentInspection {
  const format = contentFormat(content, declared);
  if (format === "text") return { warnings: [] };
  const why = declared ? `its file declares format: ${declared}` : "it starts like a pipeline (a YAML or JSON mapping)";
  if (format === "json" || content.trimStart().startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (e) {
      if (format === "json") {
        // V8 may quote the input in its message ("…, "<content>" is not valid JSON"): cut that.
        const message = (e as Error).message.replace(/, ".*" is not valid JSON$/s, "");
        const offset = /at position (\d+)/.exec(message)?.[1];
        // Older V8 messages carry no position: the YAML parser (JSON is YAML) usually finds the place.
        const yaml = offset === undefined ? parseContent(content) : undefined;
        const yamlError = yaml?.doc.errors[0];
        const where = offset !== undefined ? lineColumn(content, Number(offset)) : yaml && yamlError ? yaml.at(yamlError.pos[0]) : { line: 1, column: 1 };
        return { problem: { ...where, message: `${why} but is not valid JSON: ${message}` }, warnings: [] };
      }
      // Not JSON: a YAML flow mapping also starts with "{".
    }
    if (format === "json" && !isObject(value)) return { problem: { line: 1, column: 1, message: `${why} but is not a JSON object` }, warnings: [] };
    if (isObject(value)) {
      // Passed to v2 agents byte for byte: its size is the detail's.
      const bytes = Buffer.byteLength(content);
      if (bytes > limits.maxConfigSize) return { problem: { line: 1, column: 1, message: tooLarge(bytes, limits.maxConfigSize) }, warnings: [] };
      const parsed = parseContent(content);
      return parsed.doc.errors.length > 0 ? { warnings: [] } : secrets(parsed, limits);
    }
  }
  const parsed = parseContent(content);
  const { doc, at } = parsed;
  const error = doc.errors[0];
  if (error) return { problem: { ...at(error.pos[0]), message: `${why} but is not valid YAML: ${firstLine(error.message)}` }, warnings: [] };
  if (!isMap(doc.contents)) {
    return { problem: { ...at(doc.contents?.range?.[0] ?? 0), message: `${why} but is not a mapping: a pipeline is "key: value" lines or a JSON object` }, warnings: [] };
  }
  const expanded = expandContent(doc, expansionLimits(content, limits));
  if ("problem" in expanded) return { problem: { line: 1, column: 1, message: expanded.problem }, warnings: [] };
  const bytes = Buffer.byteLength(JSON.stringify(expanded.value));
  if (bytes > limits.maxConfigSize) return { problem: { line: 1, column: 1, message: tooLarge(bytes, limits.maxConfigSize) }, warnings: [] };
  return secrets(parsed, limits);
}

/** The plain-text credentials: warnings, or (strict) the first of them as the problem. */
function secrets(parsed: { doc: Document.Parsed; at: (offset: number) => { line: number; column: number } }, limits: ContentLimits): ContentInspection {
  const found = plainSecrets(parsed.doc).map((s) => ({ ...parsed.at(s.offset), message: plainSecretMessage(s.path, s.name) }));
  if (limits.secrets === "strict" && found[0]) return { problem: { ...found[0], message: `${found[0].message} (--secrets strict refuses it)` }, warnings: [] };
  return { warnings: found };
}

/** The content check (domain/contentFormat.ts) the User API and rollbacks use, with the server's limits. */
export function contentChecker(limits: ContentLimits): ContentCheck {
  return (content, declared) => inspectContent(content, declared, limits).problem;
}

/**
 * The content's problem as a problem of its file: at the content's own line and column when the
 * content is a literal block (`content: |`), else where the value starts, the content's line
 * and column then said in the message.
 */
function contentFileProblem(file: string, place: ContentPlace, p: ContentProblem, hint: string): Problem {
  if (place.block) {
    return { file, line: place.block.line + p.line - 1, column: place.block.indent + p.column, message: `content: ${p.message}${hint}` };
  }
  return { file, line: place.pos.line, column: place.pos.column, message: `content (line ${p.line}, column ${p.column} of the content): ${p.message}${hint}` };
}

type ParsedWithContent = {
  readonly value?: { readonly spec: { readonly content: string; readonly format?: ContentFormat }; readonly contentPlace: ContentPlace };
  readonly problems: readonly Problem[];
};

/** A parsed config or instance config file with its content's problem, if any, added, and its content's warnings. */
export function withContentProblem<P extends ParsedWithContent>(file: string, parsed: P, limits: ContentLimits): P & { readonly warnings: readonly Problem[] } {
  const v = parsed.value;
  if (!v || v.spec.content === "") return { ...parsed, warnings: [] };
  const r = inspectContent(v.spec.content, v.spec.format, limits);
  const hint = v.spec.format ? "" : ' (if it is plain text, not a pipeline, add "format: text" to this file)';
  const warnings = r.warnings.map((w) => contentFileProblem(file, v.contentPlace, w, ""));
  if (!r.problem) return { ...parsed, warnings };
  return { ...parsed, problems: [...parsed.problems, contentFileProblem(file, v.contentPlace, r.problem, hint)], warnings };
}
