import { createHash } from "node:crypto";

/**
 * Git's object encodings (SHA-1 repositories), so the writer can make a commit without a git
 * process: a spawn plus `git commit`'s index refresh cost 40-50 ms per write on a 1,000-file repo.
 */

export type ObjectType = "blob" | "tree" | "commit";

export interface TreeEntry {
  /** Octal mode as git writes it: 100644, 100755, 120000, 160000 or 40000 (a tree). */
  readonly mode: string;
  /** Raw bytes: names are not required to be UTF-8. */
  readonly name: Buffer;
  /** 20-byte binary object id. */
  readonly id: Buffer;
}

export interface Identity {
  readonly name: string;
  readonly email: string;
  /** Unix seconds. */
  readonly seconds: number;
  /** Minutes east of UTC. */
  readonly offsetMinutes: number;
}

export const TREE_MODE = "40000";

/** The object's loose form before compression ("<type> <size>\0<body>") and its id. */
export function objectWithHeader(type: ObjectType, body: Buffer): { id: string; bytes: Buffer } {
  const bytes = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
  return { id: createHash("sha1").update(bytes).digest("hex"), bytes };
}

export function decodeTree(body: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const nul = body.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > body.length) throw new Error("malformed tree object");
    entries.push({ mode: body.toString("latin1", at, space), name: body.subarray(space + 1, nul), id: body.subarray(nul + 1, nul + 21) });
    at = nul + 21;
  }
  return entries;
}

/**
 * Git orders tree entries by name bytes, a tree's name compared as if it ended in "/". Latin-1
 * strings compare exactly as their bytes do, without a Buffer per comparison.
 */
function sortKey(e: TreeEntry): string {
  return e.mode === TREE_MODE ? `${e.name.toString("latin1")}/` : e.name.toString("latin1");
}

export function encodeTree(entries: readonly TreeEntry[]): Buffer {
  const keys = entries.map(sortKey);
  const order = entries.map((_, i) => i);
  if (keys.some((k, i) => i > 0 && (keys[i - 1] as string) > k)) order.sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : 1));
  let size = 0;
  for (const e of entries) size += e.mode.length + 1 + e.name.length + 1 + 20;
  // One buffer for the whole tree: a config folder holds thousands of entries.
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const i of order) {
    const e = entries[i] as TreeEntry;
    at += out.write(e.mode, at, "latin1");
    out[at++] = 0x20;
    at += e.name.copy(out, at);
    out[at++] = 0;
    at += e.id.copy(out, at, 0, 20);
  }
  return out;
}

/**
 * Replaces, adds (`id` given) or removes (`id` undefined) entries by name. An entry that exists
 * with another kind (a tree where a file is written) is a caller error, reported, never merged.
 */
export function patchTree(entries: readonly TreeEntry[], changes: ReadonlyMap<string, { mode: string; id: Buffer } | undefined>): TreeEntry[] {
  const out: TreeEntry[] = [];
  const pending = new Map(changes);
  for (const e of entries) {
    const name = e.name.toString("utf8");
    if (!pending.has(name)) {
      out.push(e);
      continue;
    }
    const change = pending.get(name);
    pending.delete(name);
    if (change !== undefined && (e.mode === TREE_MODE) !== (change.mode === TREE_MODE)) {
      throw new Error(`${name} changes kind (${e.mode} -> ${change.mode})`);
    }
    if (change) out.push({ mode: change.mode, name: e.name, id: change.id });
  }
  for (const [name, change] of pending) if (change) out.push({ mode: change.mode, name: Buffer.from(name, "utf8"), id: change.id });
  return out;
}

/** "Name <email> 1700000000 +0100" */
export function formatIdentity(who: Identity): string {
  const sign = who.offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(who.offsetMinutes);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
  return `${sanitize(who.name)} <${sanitize(who.email)}> ${who.seconds} ${tz}`;
}

// git drops these from identities too: they would break the header line.
const sanitize = (s: string) => s.replace(/[<>\n]/g, "").trim();

/**
 * A commit message as `git commit -m` stores it (cleanup mode "whitespace"): trailing spaces
 * stripped, runs of blank lines collapsed, no leading or trailing blank lines, one final newline.
 */
export function cleanMessage(message: string): string {
  const lines = message.split("\n").map((l) => l.replace(/\s+$/, ""));
  const out: string[] = [];
  for (const l of lines) {
    if (l === "" && (out.length === 0 || out[out.length - 1] === "")) continue;
    out.push(l);
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

export function encodeCommit(tree: string, parents: readonly string[], author: Identity, committer: Identity, message: string): Buffer {
  const head = [`tree ${tree}`, ...parents.map((p) => `parent ${p}`), `author ${formatIdentity(author)}`, `committer ${formatIdentity(committer)}`];
  return Buffer.from(`${head.join("\n")}\n\n${cleanMessage(message)}`, "utf8");
}
