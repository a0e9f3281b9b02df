import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from "yaml";
import { isSecretField, isSecretSafe } from "../../domain/secretFields.ts";
import { resolveAliases } from "./expandContent.ts";

/** A credential written in plain text: where its value starts (offset in the content) and its field. */
export interface PlainSecret {
  readonly offset: number;
  /** The field's path from the pipeline's top, e.g. `flushers[0].Authentication.PlainText.Password`. */
  readonly path: string;
  readonly name: string;
}

/** A node met on the walk, with how it was reached (paths are spelled only for what is found). */
interface Step {
  readonly node: unknown;
  readonly up: Step | undefined;
  /** The key it stands under, or its index in a list. */
  readonly at: string | number | undefined;
  /** The nearest key above it (a list's items inherit their list's). */
  readonly name: string | undefined;
}

const pathOf = (s: Step): string => {
  const parts: (string | number)[] = [];
  for (let p: Step | undefined = s; p && p.at !== undefined; p = p.up) parts.push(p.at);
  let out = "";
  for (const part of parts.reverse()) out = typeof part === "number" ? `${out}[${part}]` : out === "" ? part : `${out}.${part}`;
  return out;
};

/**
 * Every field of the table in domain/secretFields.ts holding a plain-text value, in document
 * order, at any depth. One walk over the nodes (an alias is followed to the value it repeats,
 * not into it), so linear in the document.
 */
export function plainSecrets(doc: Document.Parsed): PlainSecret[] {
  const sources = resolveAliases(doc.contents);
  const found: PlainSecret[] = [];
  const stack: Step[] = [{ node: doc.contents, up: undefined, at: undefined, name: undefined }];
  while (stack.length > 0) {
    const step = stack.pop() as Step;
    const { node } = step;
    if (isMap(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        const pair = node.items[i];
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const key = String(pair.key.value ?? "");
        const child: Step = { node: pair.value, up: step, at: key, name: key };
        const value = isAlias(pair.value) ? sources.get(pair.value) : (pair.value as Node | null);
        if (isSecretField(key, step.name) && isScalar(value) && value.value !== null && !isSecretSafe(String(value.value))) {
          found.push({ offset: (pair.value as Node).range?.[0] ?? 0, path: pathOf(child), name: key });
        }
        if (!isAlias(pair.value)) stack.push(child);
      }
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], up: step, at: i, name: step.name });
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}
