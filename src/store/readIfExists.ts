import { readFileSync } from "node:fs";

/**
 * A small file's bytes, or undefined when it cannot be read (absent, a folder). Synchronous on
 * purpose: refs, HEAD and state files are tiny, and an async readFile is four thread-pool round
 * trips (~1 ms per API write on this machine).
 */
export function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}
