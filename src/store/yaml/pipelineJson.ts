import { isMap } from "yaml";
import { expandContent, MIN_ALIAS_BUDGET, tooLarge, type ExpansionLimits } from "./expandContent.ts";
import { firstLine } from "./fileReader.ts";
import { parseYaml } from "./parseYaml.ts";

/** What a content's JSON detail may cost: its largest size in bytes (--max-config-size). */
export interface DetailLimits {
  readonly maxConfigSize: number;
}

/** The expansion limits of one content: the size limit, and what aliases may add (see expandContent). */
export const expansionLimits = (content: string, limits: DetailLimits): ExpansionLimits => ({
  maxSize: limits.maxConfigSize,
  aliasBudget: Math.max(MIN_ALIAS_BUDGET, content.length),
});

/**
 * A config's content as the JSON object text agents that take pipelines as JSON (protocol v2)
 * receive: the content itself when it already is a JSON object (passed through byte for byte),
 * else its YAML mapping converted. Anything that is not a mapping, or a detail larger than the
 * limit, is a problem, said in words.
 */
export function pipelineJson(content: string, limits: DetailLimits): { readonly json: string } | { readonly problem: string } {
  const trimmed = content.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(content);
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const bytes = Buffer.byteLength(content);
        return bytes > limits.maxConfigSize ? { problem: tooLarge(bytes, limits.maxConfigSize) } : { json: content };
      }
    } catch {
      // Not JSON: YAML's flow mappings also start with "{".
    }
  }
  const doc = parseYaml(content, { prettyErrors: false });
  if (doc.errors.length > 0) return { problem: `the content is not valid YAML or JSON: ${firstLine(doc.errors[0]?.message ?? "")}` };
  if (!isMap(doc.contents)) return { problem: "the content is not a YAML or JSON mapping (v2 agents take a pipeline as a JSON object)" };
  const expanded = expandContent(doc, expansionLimits(content, limits));
  if ("problem" in expanded) return { problem: `the content cannot be converted to JSON: ${expanded.problem}` };
  const json = JSON.stringify(expanded.value);
  const bytes = Buffer.byteLength(json);
  return bytes > limits.maxConfigSize ? { problem: tooLarge(bytes, limits.maxConfigSize) } : { json };
}
