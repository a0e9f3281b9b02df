import type { Problem } from "../domain/types.ts";
import type { Git } from "./git.ts";
import { ROLLOUT_FILE } from "./repoContent.ts";

/** The largest state file the store reads, unless --max-file-size says otherwise (the default request body limit: anything the API could write reads back). */
/** The default of --max-file-size (the option table reads it from here: the store, which cannot import settings, uses it for callers that name none). */
export const DEFAULT_MAX_FILE_SIZE = 4 * 1024 * 1024;

/** One entry under the state folders of a commit, as `git ls-tree -r -l` lists it. */
export interface StateEntry {
  readonly path: string;
  /** 100644/100755 (regular file), 120000 (symbolic link), 160000 (submodule), … */
  readonly mode: string;
  readonly blob: string;
  /** Bytes; undefined for a submodule (its object is not in this repository). */
  readonly size: number | undefined;
}

/**
 * Every entry under the state folders of `commit`, with its mode and size, from one `ls-tree`:
 * git reads each object's header (not its content), so sizes and kinds are known before any blob
 * is read. A state folder committed as a symbolic link or a submodule lists as that one entry.
 */
export async function stateEntries(git: Git, commit: string, dirs: readonly string[], fullTree: boolean): Promise<StateEntry[]> {
  const out = await git.raw(["ls-tree", "-r", "-l", "-z", ...(fullTree ? ["--full-tree"] : []), commit, "--", ...dirs]);
  const entries: StateEntry[] = [];
  for (const rec of out.split("\0")) {
    if (rec === "") continue;
    const tab = rec.indexOf("\t");
    const [mode = "", , blob = "", size = "-"] = rec.slice(0, tab).split(/ +/);
    entries.push({ path: rec.slice(tab + 1), mode, blob, size: size === "-" ? undefined : Number(size) });
  }
  return entries;
}

const REGULAR = new Set(["100644", "100755"]);

/** Whether the tree's state files may be read: a problem per link, submodule or oversize file (those paths are not read). */
export function entryProblems(entries: readonly StateEntry[], maxFileSize: number): { problems: Problem[]; skip: Set<string> } {
  const problems: Problem[] = [];
  const skip = new Set<string>();
  for (const e of entries) {
    if (!REGULAR.has(e.mode)) {
      skip.add(e.path);
      problems.push(notRegularProblem(e.path, e.mode === "120000" ? "symbolic link" : e.mode === "160000" ? "submodule" : `tree entry of mode ${e.mode}`));
    } else if (!e.path.includes("/") && e.path !== ROLLOUT_FILE) {
      // Listed without a folder part: the state folder itself is a file.
      skip.add(e.path);
      problems.push(notRegularProblem(e.path, "file, not a folder"));
    } else if (e.size !== undefined && e.size > maxFileSize) {
      skip.add(e.path);
      problems.push(sizeProblem(e.path, e.size, maxFileSize));
    }
  }
  return { problems, skip };
}

/** A state folder or file that is not a regular one (a link could point outside the repository). */
export function notRegularProblem(path: string, what: string): Problem {
  return { file: path, line: 1, column: 1, message: `${path} is a ${what}: state folders and files must be regular folders and files inside the repository (replace it with the real folder or file)` };
}

export function sizeProblem(path: string, size: number, limit: number): Problem {
  return { file: path, line: 1, column: 1, message: `${path} is ${formatBytes(size)} (${size} bytes), larger than the limit of ${formatBytes(limit)} (--max-file-size): it is not read; make it smaller or split it` };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, "")} KiB`;
  return `${n} bytes`;
}
