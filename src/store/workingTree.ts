import type { Dirent } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Problem } from "../domain/types.ts";
import { ROLLOUT_FILE, STATE_DIRS } from "./repoContent.ts";
import { DEFAULT_MAX_FILE_SIZE, notRegularProblem, sizeProblem } from "./stateTree.ts";

/**
 * The state files of a directory as they are on disk (what `validate` checks before a commit).
 * Links are never followed: a state folder or file that is a link (or anything but a regular
 * file) is a problem, as are files over `maxFileSize` (never read), the server's own rules.
 */
export async function readWorkingTree(dir: string, maxFileSize = DEFAULT_MAX_FILE_SIZE): Promise<{ files: Map<string, string>; problems: Problem[] }> {
  const files = new Map<string, string>();
  const problems: Problem[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries: Dirent[] = await readdir(join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path);
      else if (e.isSymbolicLink()) problems.push(notRegularProblem(path, "symbolic link"));
      else if (e.isFile()) {
        const { size } = await lstat(join(dir, path));
        if (size > maxFileSize) problems.push(sizeProblem(path, size, maxFileSize));
        else files.set(path, await readFile(join(dir, path), "utf8"));
      }
    }
  };
  for (const d of STATE_DIRS) {
    const st = await lstat(join(dir, d)).catch(() => undefined);
    if (st === undefined) continue;
    if (st.isSymbolicLink()) problems.push(notRegularProblem(d, "symbolic link"));
    else if (st.isDirectory()) await walk(d);
    else problems.push(notRegularProblem(d, "file, not a folder"));
  }
  const rollout = await lstat(join(dir, ROLLOUT_FILE)).catch(() => undefined);
  if (rollout?.isSymbolicLink()) problems.push(notRegularProblem(ROLLOUT_FILE, "symbolic link"));
  else if (rollout?.isFile()) {
    if (rollout.size > maxFileSize) problems.push(sizeProblem(ROLLOUT_FILE, rollout.size, maxFileSize));
    else files.set(ROLLOUT_FILE, await readFile(join(dir, ROLLOUT_FILE), "utf8"));
  }
  return { files, problems };
}
