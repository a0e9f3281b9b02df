import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Neither the tests' git nor the servers they start (in this process, or as child processes,
// which inherit this environment) may read the machine's git configuration: a developer's
// core.autocrlf, hooksPath, init.defaultBranch or commit.gpgSign would change what is tested.
process.env.GIT_CONFIG_GLOBAL = "/dev/null";
process.env.GIT_CONFIG_NOSYSTEM = "1";

/** A person's identity for commits the tests make "by hand", independent of the machine's git config. */
export const personEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Test Person",
  GIT_AUTHOR_EMAIL: "person@example.com",
  GIT_COMMITTER_NAME: "Test Person",
  GIT_COMMITTER_EMAIL: "person@example.com",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Runs a real git command, as a person working in the repository would. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: personEnv, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function tempDir(prefix = "cs-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
