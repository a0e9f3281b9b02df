import { mkdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { objectWithHeader, type ObjectType } from "./gitObjects.ts";

/** How often a loose object's fan-out folder is made again when gc removed it before the object's file was in it. */
const MAX_FOLDER_ATTEMPTS = 20;

/** Where git keeps a loose object: `objects/<first two hex digits>/<the rest>`. */
export const looseObjectPath = (gitDir: string, id: string) => join(gitDir, "objects", id.slice(0, 2), id.slice(2));

/**
 * The body of a loose object, or undefined when it is not stored loose (packed, in an alternate,
 * or absent): the caller then asks git. Blobs of a commit just made by a person or fetched in a
 * small batch are loose, so a reload usually needs no `git cat-file` process.
 */
export function readLooseObject(gitDir: string, id: string, type: string): Buffer | undefined {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(looseObjectPath(gitDir, id)));
  } catch {
    return undefined;
  }
  const nul = raw.indexOf(0);
  const [kind, size] = raw.toString("latin1", 0, nul < 0 ? 0 : nul).split(" ");
  if (kind !== type || Number(size) !== raw.length - nul - 1) return undefined;
  return raw.subarray(nul + 1);
}

/**
 * Writes a loose object as git does: an object that already exists loose is only freshened (its
 * mtime set to now, so a concurrent `git prune` keeps it: it is about to be referenced); a new one
 * is written to a temporary file (named by `tmpName`) in its fan-out folder (made again if gc
 * removed it) and renamed into place. Returns the object's id.
 */
export function writeLooseObject(gitDir: string, tmpName: () => string, type: ObjectType, body: Buffer): string {
  const { id, bytes } = objectWithHeader(type, body);
  const file = looseObjectPath(gitDir, id);
  try {
    const now = new Date();
    utimesSync(file, now, now);
    return id;
  } catch {
    // not loose (absent or packed): write it
  }
  const dir = dirname(file);
  const tmp = join(dir, tmpName());
  // Level 1 is git's default for loose objects (core.looseCompression); git makes them read-only.
  const data = deflateSync(bytes, { level: 1 });
  // An empty fan-out folder can be removed by a concurrent `git prune-packed` (gc) between our
  // mkdir and our open, again and again while gc runs in a loop on a loaded machine (three
  // attempts were lost in a row once in CI); once our file is in it, it cannot be removed.
  for (let attempt = 1; ; attempt++) {
    try {
      writeFileSync(tmp, data, { mode: 0o444, flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= MAX_FOLDER_ATTEMPTS) throw e;
      mkdirSync(dir, { recursive: true });
    }
  }
  renameSync(tmp, file);
  return id;
}
