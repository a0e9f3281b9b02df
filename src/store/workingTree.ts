import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ROLLOUT_FILE, STATE_DIRS } from "./repoContent.ts";

/** The state files of a directory as they are on disk (what `validate` checks before a commit). */
export async function readWorkingTree(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path);
      else if (e.isFile()) files.set(path, await readFile(join(dir, path), "utf8"));
    }
  };
  for (const dir of STATE_DIRS) await walk(dir);
  if ((await stat(join(dir, ROLLOUT_FILE)).catch(() => undefined))?.isFile()) files.set(ROLLOUT_FILE, await readFile(join(dir, ROLLOUT_FILE), "utf8"));
  return files;
}
