import { isAlias, isCollection, isMap, isPair, isScalar, parseDocument, YAMLParseError, type Document, type DocumentOptions, type Node, type ParseOptions, type SchemaOptions } from "yaml";

type Options = ParseOptions & DocumentOptions & SchemaOptions;

/**
 * parseDocument with duplicate keys found in linear time. The library's own check (`uniqueKeys`)
 * compares every key with every earlier key of its mapping: 20,000 keys took seconds, 80,000
 * minutes, all blocking the process. It is turned off here and each mapping's keys go through a
 * Map instead; a duplicate gets the library's own error (code, message, place), so problems read
 * as before.
 */
export function parseYaml(text: string, options: Omit<Options, "uniqueKeys"> = {}): Document.Parsed {
  const doc = parseDocument(text, { ...options, uniqueKeys: false });
  const duplicates = duplicateKeyErrors(doc.contents);
  if (duplicates.length > 0) doc.errors.push(...duplicates), doc.errors.sort((a, b) => a.pos[0] - b.pos[0]);
  return doc;
}

/** One DUPLICATE_KEY error per scalar key that repeats an earlier key of the same mapping. */
function duplicateKeyErrors(root: unknown): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  // Iterative: a deeply nested document must not overflow the stack here.
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isCollection(node)) continue;
    const seen = isMap(node) ? new Set<unknown>() : undefined;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        const key = item.key as Node | null;
        // The library's rule: scalar keys are equal when their values are (===); others never.
        if (seen && isScalar(key) && !Number.isNaN(key.value)) {
          if (seen.has(key.value)) errors.push(new YAMLParseError([key.range?.[0] ?? 0, key.range?.[1] ?? 0], "DUPLICATE_KEY", "Map keys must be unique"));
          else seen.add(key.value);
        }
        if (!isAlias(key)) stack.push(key);
        stack.push(item.value);
      } else stack.push(item);
    }
  }
  return errors;
}
