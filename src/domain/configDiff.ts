import { diffLines } from "./lineDiff.ts";
/** What a diff compares: a config, or an instance config (which has no agent type). */
export interface DiffSide {
  readonly agentType?: string;
  readonly description: string;
  readonly content: string;
}

/** One line of a content diff, with its line number on each side it is on (1-based). */
export interface NumberedLine {
  readonly op: " " | "-" | "+";
  readonly text: string;
  readonly oldLine: number | null;
  readonly newLine: number | null;
}

export interface ConfigDiff {
  /** Fields other than the content that changed, with both values. */
  readonly fields: readonly { readonly field: "agentType" | "description"; readonly before: string; readonly after: string }[];
  /** Every line of the content, kept, removed or added (the console folds long unchanged runs). */
  readonly lines: readonly NumberedLine[];
  readonly added: number;
  readonly removed: number;
}

/** What changed from `before` (undefined: the config did not exist) to `after`. */
export function configDiff(before: DiffSide | undefined, after: DiffSide): ConfigDiff {
  const fields: { field: "agentType" | "description"; before: string; after: string }[] = [];
  for (const field of ["agentType", "description"] as const) {
    const b = before?.[field] ?? "";
    const a = after[field] ?? "";
    if (b !== a) fields.push({ field, before: b, after: a });
  }
  let oldLine = 0;
  let newLine = 0;
  let added = 0;
  let removed = 0;
  const lines = diffLines(before?.content ?? "", after.content).map((d): NumberedLine => {
    if (d.op === "+") added++;
    if (d.op === "-") removed++;
    return {
      op: d.op,
      text: d.text,
      oldLine: d.op === "+" ? null : ++oldLine,
      newLine: d.op === "-" ? null : ++newLine,
    };
  });
  return { fields, lines, added, removed };
}
