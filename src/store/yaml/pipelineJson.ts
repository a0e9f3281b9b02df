import { isMap, parseDocument } from "yaml";
import { firstLine } from "./fileReader.ts";

/**
 * A config's content as the JSON object text agents that take pipelines as JSON (protocol v2)
 * receive: the content itself when it already is a JSON object (passed through byte for byte),
 * else its YAML mapping converted. Anything that is not a mapping is a problem, said in words.
 */
export function pipelineJson(content: string): { readonly json: string } | { readonly problem: string } {
  const trimmed = content.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(content);
      if (value !== null && typeof value === "object" && !Array.isArray(value)) return { json: content };
    } catch {
      // Not JSON: YAML's flow mappings also start with "{".
    }
  }
  const doc = parseDocument(content, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return { problem: `the content is not valid YAML or JSON: ${firstLine(doc.errors[0]?.message ?? "")}` };
  if (!isMap(doc.contents)) return { problem: "the content is not a YAML or JSON mapping (v2 agents take a pipeline as a JSON object)" };
  try {
    return { json: JSON.stringify(doc.toJS({ maxAliasCount: 1000 })) };
  } catch (e) {
    return { problem: `the content cannot be converted to JSON: ${(e as Error).message}` };
  }
}
