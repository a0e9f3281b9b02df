import { existsSync } from "node:fs";
import { join } from "node:path";
import { DomainError } from "../domain/errors.ts";
import { assertWritablePath } from "./pathGuard.ts";
import { readIfExists } from "./readIfExists.ts";
import { formatBytes } from "./stateTree.ts";
import type { FileWrite } from "./writeTransaction.ts";

// What a write checks before it commits anything (repoWriter.ts): each refusal leaves the
// repository as it was, and names what is in the way and how to clear it.

/** Git operations a person may have left half-done: the server does not write into them. */
const OPERATIONS: readonly (readonly [string, string, string])[] = [
  ["MERGE_HEAD", "a merge", "conclude it with git commit, or git merge --abort"],
  ["rebase-merge", "a rebase", "git rebase --continue, or git rebase --abort"],
  ["rebase-apply", "a rebase (or git am)", "git rebase --continue or --abort (git am --continue or --abort)"],
  ["CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue, or --abort"],
  ["REVERT_HEAD", "a revert", "git revert --continue, or --abort"],
  ["BISECT_LOG", "a bisect", "git bisect reset"],
];

/** A merge, rebase, cherry-pick, revert or bisect a person left in progress: no write into it. */
export function refuseDuringOperation(gitDir: string): void {
  for (const [file, what, howToEnd] of OPERATIONS) {
    if (existsSync(join(gitDir, file))) {
      throw new DomainError("ServerBusy", `${what} is in progress in the server's repository (.git/${file} exists); the change was not made. Finish it (${howToEnd}), then retry.`);
    }
  }
}

/**
 * Nothing is written through a link or into something that is not a folder, and no file is made
 * that the server itself would refuse to read back.
 */
export function checkWrites(workTree: string, files: readonly FileWrite[], maxFileSize: number): void {
  for (const f of files) {
    assertWritablePath(workTree, f.path);
    const size = f.text === undefined ? 0 : Buffer.byteLength(f.text);
    if (size > maxFileSize) throw new DomainError("InvalidParameter", `${f.path} would be ${formatBytes(size)} (${size} bytes), larger than the limit of ${formatBytes(maxFileSize)} (--max-file-size); the change was not made.`);
  }
}

/** Refuses to write over a person's uncommitted edit of the same file. */
export function checkClean(workTree: string, paths: readonly string[], texts: ReadonlyMap<string, string>): void {
  for (const path of paths) {
    if (readIfExists(join(workTree, path))?.toString("utf8") !== texts.get(path)) {
      throw new DomainError("Conflict", `${path} has uncommitted changes in the server's working tree; commit or discard them, then retry.`);
    }
  }
}
