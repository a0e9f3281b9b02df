import { LineCounter, parseDocument } from "yaml";
import type { Pos } from "../domain/types.ts";

const CONTENT_KEY = /^content:[ \t]*([|>][-+0-9]*)?[ \t]*(#.*)?$/;

/**
 * Where, in a config file's text, the first YAML error of its `content` lies: content written as
 * a block scalar (`content: |`) starts on the line after its key, so the content's line n is the
 * file's line key + n. For content written in another style, the key's own line.
 */
export function contentProblemAt(fileText: string, content: string): Pos {
  const lines = fileText.split("\n");
  const key = lines.findIndex((l) => l.startsWith("content:"));
  if (key < 0) return { line: 1, column: 1 };
  const block = CONTENT_KEY.exec(lines[key] as string)?.[1] !== undefined;
  if (!block) return { line: key + 1, column: 1 };
  const counter = new LineCounter();
  const doc = parseDocument(content, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  const error = doc.errors[0];
  if (!error) return { line: key + 2, column: 1 };
  // An error at the very end (an unclosed bracket) belongs to the last line of the content.
  const last = Math.max(1, content.replace(/\n$/, "").split("\n").length);
  const pos = counter.linePos(error.pos[0]);
  const at = pos.line > last ? { line: last, col: 1 } : pos;
  // The block's indentation is not part of the content: columns are shifted by it.
  const indent = /^[ \t]*/.exec(lines[key + at.line] ?? "")?.[0].length ?? 0;
  return { line: key + 1 + at.line, column: at.col + indent };
}
