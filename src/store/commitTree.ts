import type { Git } from "./git.ts";
import type { Problem } from "../domain/types.ts";
import { STATE_PATHS } from "./repoContent.ts";
import { DEFAULT_MAX_FILE_SIZE, entryProblems, stateEntries } from "./stateTree.ts";

/**
 * Resolves a revision to a commit hash, with an error that says what to do in a CI checkout
 * (shallow clones often lack the base commit).
 */
export async function resolveCommit(git: Git, rev: string): Promise<string> {
  const out = await git.raw(["rev-parse", "--verify", "-q", `${rev}^{commit}`]).catch(() => "");
  const commit = out.trim();
  if (!commit) {
    throw new Error(`unknown revision ${JSON.stringify(rev)} in ${git.dir}: fetch it first (CI checkouts are often shallow: use fetch-depth: 0, or git fetch origin <branch>)`);
  }
  return commit;
}

/**
 * The state files (configs/, agent_groups/) of one commit, keyed by path relative to the Git
 * object's directory, exactly as readWorkingTree keys a directory on disk. The directory may be a
 * subfolder of the repository (ls-tree lists paths relative to it), so a template folder inside
 * another project can be previewed too.
 */
export async function readCommitTree(git: Git, rev: string, maxFileSize = DEFAULT_MAX_FILE_SIZE): Promise<{ files: Map<string, string>; problems: Problem[] }> {
  const commit = await resolveCommit(git, rev);
  const listed = await stateEntries(git, commit, STATE_PATHS, false);
  const { problems, skip } = entryProblems(listed, maxFileSize);
  const entries = listed.filter((e) => !skip.has(e.path));
  const blobs = await git.catFileBatch(entries.map((e) => e.blob));
  const files = new Map<string, string>();
  entries.forEach((e, i) => files.set(e.path, blobs[i]?.toString("utf8") ?? ""));
  return { files, problems };
}
