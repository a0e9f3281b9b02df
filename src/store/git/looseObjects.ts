import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

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
