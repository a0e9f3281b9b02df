import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from "yaml";

/** What a content's expansion may cost (see expandContent). */
export interface ExpansionLimits {
  /** The largest JSON detail, in bytes (--max-config-size). */
  readonly maxSize: number;
  /** The most bytes aliases (`*name`) may add to it when expanded. */
  readonly aliasBudget: number;
}

/** Aliases may add at most this much, or the content's own size when that is larger. */
export const MIN_ALIAS_BUDGET = 64 * 1024;

export type Expansion = { readonly value: unknown } | { readonly problem: string };

const unit = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`);
/** A size as people read it: `1204567 bytes (1.1 MiB)`. */
export const sizeText = (n: number) => `${n} bytes${n >= 1024 ? ` (${unit(n)})` : ""}`;

/**
 * A parsed document's value as plain JavaScript, with what aliases cost measured first. YAML
 * aliases repeat a node without repeating its text: 111 KB of content (a 100 KB string and 999
 * `*x`) expands to a 102 MB detail, sent to every v2 agent. So the size of the expanded JSON is
 * computed before anything is expanded (each node's size once, however many aliases repeat it,
 * so linear in the document), and a content over either limit is refused with its size.
 *
 * Aliases are resolved here by one walk in document order (an alias names the nearest anchor
 * before it), not by the library's toJS, which searches the document again for every alias.
 * The sizes are a lower bound of the JSON text (escapes only add), so nothing that fits is
 * refused; the caller checks the exact size of the text it produces.
 */
export function expandContent(doc: Document.Parsed, limits: ExpansionLimits): Expansion {
  const sources = resolveAliases(doc.contents);
  const sizes = new Map<unknown, { full: number; own: number }>();
  const open = new Set<unknown>();
  const target = (node: unknown): unknown => (isAlias(node) ? sources.get(node) : node);

  /** `full`: JSON bytes with aliases expanded; `own`: without what aliases add. */
  const size = (node: unknown): { full: number; own: number } => {
    if (isAlias(node)) {
      const source = sources.get(node);
      if (source === undefined) throw new ExpandProblem(`the alias *${node.source} names no anchor before it`);
      return { full: size(source).full, own: node.source.length + 1 };
    }
    const known = sizes.get(node);
    if (known) return known;
    if (open.has(node)) throw new ExpandProblem("an alias repeats a mapping or list it stands in, which would never end");
    open.add(node);
    let full = 0;
    let own = 0;
    if (isMap(node) || isSeq(node)) {
      full = own = 2 + Math.max(0, node.items.length - 1);
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          const k = keyText(target(item.key));
          const v = size(item.value);
          full += k + 1 + v.full;
          own += k + 1 + v.own;
        } else {
          const v = size(item);
          full += v.full;
          own += v.own;
        }
      }
    } else {
      full = own = scalarSize(isScalar(node) ? node.value : null);
    }
    open.delete(node);
    const out = { full, own };
    sizes.set(node, out);
    return out;
  };

  try {
    const { full, own } = size(doc.contents);
    if (full - own > limits.aliasBudget) {
      return { problem: `its aliases (*name) expand it by ${sizeText(full - own)}, more than the ${sizeText(limits.aliasBudget)} aliases may add (the content's own size, at least 64 KiB): write the repeated part out, or split the config` };
    }
    if (full > limits.maxSize) return { problem: tooLarge(full, limits.maxSize) };
    return { value: toValue(doc.contents, sources) };
  } catch (e) {
    if (e instanceof ExpandProblem) return { problem: e.message };
    if (e instanceof RangeError) return { problem: "it is nested too deeply to convert" };
    throw e;
  }
}

export const tooLarge = (size: number, limit: number) =>
  `its JSON detail (what v2 agents receive) is ${sizeText(size)}, more than the limit of ${sizeText(limit)} (--max-config-size): split the config, or raise the limit`;

class ExpandProblem extends Error {}

/** Every alias's node: the last node before it carrying its anchor, found in one walk in document order. */
export function resolveAliases(root: unknown): Map<unknown, Node> {
  const anchors = new Map<string, Node>();
  const out = new Map<unknown, Node>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      const source = anchors.get(node.source);
      if (source) out.set(node, source);
      continue;
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (node.anchor) anchors.set(node.anchor, node);
      if (isScalar(node)) continue;
      // Pushed in reverse so they are taken in document order: a pair's key before its value.
      const items = node.items as unknown[];
      for (let i = items.length - 1; i >= 0; i--) {
        const item = items[i];
        if (isPair(item)) stack.push(item.value, item.key);
        else stack.push(item);
      }
    }
  }
  return out;
}

/** At least what JSON.stringify writes for a scalar's value. */
function scalarSize(v: unknown): number {
  if (typeof v === "string") return v.length + 2;
  if (typeof v === "number") return Number.isFinite(v) ? String(v).length : 4;
  if (typeof v === "boolean") return v ? 4 : 5;
  return v === null || v === undefined ? 4 : 2;
}

/** A key as the object key it becomes: the library's rule (null is "", scalars their text). */
function keyString(key: unknown, sources: Map<unknown, Node>): string {
  if (key === null || key === undefined) return "";
  if (isScalar(key)) return key.value === null || key.value === undefined ? "" : typeof key.value === "object" ? JSON.stringify(key.value) : String(key.value);
  // A mapping or list as a key (rare in a pipeline): its JSON text.
  return JSON.stringify(toValue(key, sources));
}

/** At least the bytes of a key's JSON text. */
function keyText(key: unknown): number {
  return isScalar(key) ? String(key.value ?? "").length + 2 : 2;
}

/** The node as plain JavaScript; a node aliases repeat becomes one shared value. */
function toValue(root: unknown, sources: Map<unknown, Node>): unknown {
  const made = new Map<unknown, unknown>();
  const convert = (node: unknown): unknown => {
    const n = isAlias(node) ? sources.get(node) : node;
    if (made.has(n)) return made.get(n);
    if (isMap(n)) {
      const obj: Record<string, unknown> = {};
      made.set(n, obj);
      for (const pair of n.items) {
        const key = keyString(isAlias(pair.key) ? sources.get(pair.key) : pair.key, sources);
        const value = convert(pair.value);
        // Defined, not assigned: a "__proto__" key is data, not the object's prototype.
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
    if (isSeq(n)) {
      const list: unknown[] = [];
      made.set(n, list);
      for (const item of n.items) list.push(convert(item));
      return list;
    }
    const value: unknown = isScalar(n) ? n.value : null;
    return value === undefined ? null : value;
  };
  return convert(root);
}
