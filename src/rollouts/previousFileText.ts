import { configPath, instanceConfigPath } from "../store/repoContent.ts";
import type { RolloutRecord } from "./rolloutRecord.ts";

/** Reads files of past commits (`<commit>:<path>`; undefined when absent). */
export interface PastFiles {
  catFileBatch(specs: readonly string[]): Promise<(Buffer | undefined)[]>;
}

/**
 * The config's file exactly as it was at the rollout's `from` version, for the reverts that put a
 * file back byte for byte (a removal, an instance config); undefined for the others. `from.commit`
 * made that version, so its tree holds exactly that file.
 */
export async function previousFileText(git: PastFiles, r: RolloutRecord): Promise<string | undefined> {
  if (r.from === undefined || (r.kind === "pipeline" && r.to.version !== -1)) return undefined;
  const path = r.kind === "pipeline" ? configPath(r.name) : instanceConfigPath(r.name);
  return (await git.catFileBatch([`${r.from.commit}:${path}`]))[0]?.toString("utf8");
}
