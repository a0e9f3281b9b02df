import { isMap, LineCounter, parseDocument } from "yaml";
import { contentFormat, type ContentFormat, type ContentProblem } from "../domain/contentFormat.ts";
import type { Problem } from "../domain/types.ts";
import type { ContentPlace } from "./yaml/fileReader.ts";

const firstLine = (s: string) => s.split("\n")[0] ?? s;

/** 1-based line and column of a character offset in `text`. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split("\n").length;
  return { line, column: before.length - before.lastIndexOf("\n") };
}

function parseYaml(content: string) {
  const lines = new LineCounter();
  // The options pipelineJson (yaml/pipelineJson.ts) parses with: content this check passes converts.
  const doc = parseDocument(content, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  return { doc, at: (offset: number) => ({ line: lines.linePos(offset).line, column: lines.linePos(offset).col }) };
}

const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Checks a content by the rule of src/domain/contentFormat.ts: content meant as a pipeline must
 * parse (YAML, or strict JSON when the file says `format: json`) to a mapping. Plain text passes.
 */
export function checkContent(content: string, declared: ContentFormat | undefined): ContentProblem | undefined {
  const format = contentFormat(content, declared);
  if (format === "text") return undefined;
  const why = declared ? `its file declares format: ${declared}` : "it starts like a pipeline (a YAML or JSON mapping)";
  if (format === "json") {
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (e) {
      // V8 may quote the whole input in its message ("…, "<content>" is not valid JSON"): cut that.
      const message = (e as Error).message.replace(/, ".*" is not valid JSON$/s, "");
      const offset = /at position (\d+)/.exec(message)?.[1];
      // Older V8 messages carry no position: the YAML parser (JSON is YAML) usually finds the place.
      const yamlError = offset === undefined ? parseYaml(content).doc.errors[0] : undefined;
      const where = offset !== undefined ? lineColumn(content, Number(offset)) : yamlError ? parseYaml(content).at(yamlError.pos[0]) : { line: 1, column: 1 };
      return { ...where, message: `${why} but is not valid JSON: ${message}` };
    }
    return isObject(value) ? undefined : { line: 1, column: 1, message: `${why} but is not a JSON object` };
  }
  if (content.trimStart().startsWith("{")) {
    try {
      if (isObject(JSON.parse(content))) return undefined;
    } catch {
      // Not JSON: a YAML flow mapping also starts with "{".
    }
  }
  const { doc, at } = parseYaml(content);
  const error = doc.errors[0];
  if (error) return { ...at(error.pos[0]), message: `${why} but is not valid YAML: ${firstLine(error.message)}` };
  if (!isMap(doc.contents)) {
    return { ...at(doc.contents?.range?.[0] ?? 0), message: `${why} but is not a mapping: a pipeline is "key: value" lines or a JSON object` };
  }
  return undefined;
}

/**
 * The content's problem as a problem of its file: at the content's own line and column when the
 * content is a literal block (`content: |`), else where the value starts, the content's line
 * and column then said in the message.
 */
function contentFileProblem(file: string, place: ContentPlace, p: ContentProblem, declared: ContentFormat | undefined): Problem {
  const hint = declared ? "" : ' (if it is plain text, not a pipeline, add "format: text" to this file)';
  if (place.block) {
    return { file, line: place.block.line + p.line - 1, column: place.block.indent + p.column, message: `content: ${p.message}${hint}` };
  }
  return { file, line: place.pos.line, column: place.pos.column, message: `content (line ${p.line}, column ${p.column} of the content): ${p.message}${hint}` };
}

type ParsedWithContent = { readonly value?: { readonly spec: { readonly content: string; readonly format?: ContentFormat }; readonly contentPlace: ContentPlace }; readonly problems: readonly Problem[] };

/** A parsed config or instance config file with its content's problem, if any, added. */
export function withContentProblem<P extends ParsedWithContent>(file: string, parsed: P): P {
  const v = parsed.value;
  if (!v || v.spec.content === "") return parsed;
  const p = checkContent(v.spec.content, v.spec.format);
  return p ? { ...parsed, problems: [...parsed.problems, contentFileProblem(file, v.contentPlace, p, v.spec.format)] } : parsed;
}
