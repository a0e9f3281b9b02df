/** What `--registry` names: this process's memory, or a Redis shared by every replica. */
export type RegistryChoice = { readonly kind: "memory" } | { readonly kind: "redis"; readonly url: string };

/**
 * `memory`, or `redis://[user:password@]host[:port][/db]` (`rediss://` for TLS). Returns a
 * problem sentence instead when the text is neither.
 */
export function parseRegistry(text: string): RegistryChoice | string {
  const s = text.trim();
  if (s === "memory") return { kind: "memory" };
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return "is neither memory nor a redis:// URL (e.g. redis://127.0.0.1:6379/0)";
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") return `has scheme ${u.protocol} instead of redis:// or rediss://`;
  if (u.hostname === "") return "names no host (e.g. redis://127.0.0.1:6379/0)";
  const db = u.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) return `names database ${JSON.stringify(db)}: the path must be a database number (e.g. /0)`;
  if (u.search || u.hash) return "has a query or fragment; only redis://[user:password@]host[:port][/db] is understood";
  return { kind: "redis", url: s };
}
