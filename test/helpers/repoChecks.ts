import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import type { ExecutionContext } from "ava";
import { git } from "./git.ts";

/**
 * Files a writer may leave behind and must not: locks, temporary objects and state files, write
 * intents, and anything in a server's temporary folder (empty between writes).
 */
export function leftovers(repo: string): string[] {
  const found: string[] = [];
  const gitDir = join(repo, ".git");
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (/\.lock$|^tmp_obj_|\.tmp-\d+$|^\.configserver-tmp-/.test(e.name)) found.push(relative(repo, path));
    }
  };
  walk(gitDir);
  for (const d of ["configs", "agent_groups"]) if (existsSync(join(repo, d))) walk(join(repo, d));
  const own = join(gitDir, "configserver");
  for (const sub of ["intents", "tmp"]) {
    if (!existsSync(join(own, sub))) continue;
    for (const e of readdirSync(join(own, sub), { withFileTypes: true })) {
      // A running server's temporary folder exists, empty between writes.
      if (sub === "tmp" && e.isDirectory() && readdirSync(join(own, sub, e.name)).length === 0) continue;
      found.push(`.git/configserver/${sub}/${e.name}`);
    }
  }
  return found;
}

/** What a person expects after any number of API writes and crashes: git finds nothing wrong. */
export function assertRepoClean(t: ExecutionContext, repo: string, label: string): void {
  t.is(git(repo, "status", "--porcelain", "--untracked-files=all"), "", `${label}: git status is clean`);
  t.is(git(repo, "fsck", "--full", "--strict", "--no-dangling", "--no-progress"), "", `${label}: git fsck --full is clean`);
  // The index records exactly HEAD's tree: nothing staged, nothing lost (issue 10, point 4).
  t.is(git(repo, "write-tree").trim(), git(repo, "rev-parse", "HEAD^{tree}").trim(), `${label}: index = HEAD`);
  t.deepEqual(leftovers(repo), [], `${label}: no leftover locks or temporary files`);
}
