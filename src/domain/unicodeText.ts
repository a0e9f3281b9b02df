/**
 * Text a request may carry into a state file. JSON can spell a lone UTF-16 surrogate
 * (`"\ud800"`), which is no Unicode character: written to a file and encoded in an answer it
 * becomes bytes that are not UTF-8, and every client decoding that answer (a protobuf User API
 * ListAgentGroups, say) fails. Protobuf bodies cannot carry one (their strings are decoded as
 * strict UTF-8), so JSON bodies are held to the same rule.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `s` is Unicode text (no lone surrogate). Linear: one pass of a regular expression without backtracking. */
export const isUnicodeText = (s: string): boolean => !LONE_SURROGATE.test(s);

/** A path grows to about 200 characters, then ends in "…": a deep value's path stays short to say and cheap to build. */
const deeper = (path: string, step: string) => (path.length > 200 ? (path.endsWith("…") ? path : `${path}…`) : path + step);

/**
 * The path (`a.b[2]`, keys included) of the first string or key in a parsed JSON value that is
 * not Unicode text, or undefined. Iterative: JSON.parse accepts nesting far deeper than the stack.
 */
export function nonUnicodeAt(value: unknown): string | undefined {
  const todo: [unknown, string][] = [[value, ""]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [v, path] = next;
    if (typeof v === "string") {
      if (!isUnicodeText(v)) return path || "(the value)";
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) todo.push([v[i], deeper(path, `[${i}]`)]);
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v).reverse()) {
        if (!isUnicodeText(k)) return `${path ? `${path}.` : ""}(a key)`;
        todo.push([x, deeper(path, path ? `.${k}` : k)]);
      }
    }
  }
  return undefined;
}
