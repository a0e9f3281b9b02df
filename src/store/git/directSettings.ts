import { statSync } from "node:fs";
import { join } from "node:path";
import type { Git } from "../git.ts";
import type { RepoConfig } from "../repoConfig.ts";
import type { ServerFiles } from "../serverFiles.ts";

// Whether the in-process writer (directCommit.ts) may commit in this repository, and what its
// configuration asks of a commit: anything it does not model is declined before the first
// change, and git itself commits instead.

// Hooks `git commit --no-verify` still runs: with any of them present, git makes the commit.
const HOOKS = ["prepare-commit-msg", "post-commit", "post-index-change", "reference-transaction"];

/** What the repository's configuration asks of a commit, or why it needs git itself. */
export interface DirectSettings {
  /** core.logAllRefUpdates: whether a missing reflog of a branch and of HEAD is created. */
  readonly createReflogs: boolean;
  /** A hook `git commit --no-verify` would run, if one exists. */
  readonly hook: string | undefined;
}

/** The configuration settings this writer does not model (git itself commits then). */
function declineReason(config: ReadonlyMap<string, string>): string | undefined {
  const format = config.get("extensions.objectformat");
  if (format !== undefined && format !== "sha1") return `object format ${format}`;
  const refs = config.get("extensions.refstorage");
  if (refs !== undefined && refs !== "files") return `ref storage ${refs}`;
  if (config.get("core.bare") === "true") return "a bare repository";
  const autocrlf = config.get("core.autocrlf");
  if (autocrlf !== undefined && autocrlf !== "false") return `core.autocrlf=${autocrlf}`;
  if (config.has("core.attributesfile")) return "core.attributesFile is set";
  // git fsyncs what these ask for; this writer (like git's defaults) does not.
  if (config.has("core.fsync") || config.get("core.fsyncobjectfiles") === "true") return "core.fsync is set";
  // Shared repositories need git's group permissions on every file it creates.
  const shared = config.get("core.sharedrepository");
  if (shared !== undefined && shared !== "false" && shared !== "umask") return `core.sharedRepository=${shared}`;
  return undefined;
}

/** What the repository asks of an in-process commit, or the reason it needs git itself (reread when the configuration changes). */
export async function directSettings(files: ServerFiles, git: Git, repoConfig: RepoConfig): Promise<DirectSettings | string> {
  if (files.gitDir !== join(git.dir, ".git") || !statSync(files.gitDir, { throwIfNoEntry: false })?.isDirectory()) {
    return ".git is not a directory (a worktree or submodule)";
  }
  const config = await repoConfig.current();
  const reason = declineReason(config);
  if (reason !== undefined) return reason;
  const logAll = config.get("core.logallrefupdates");
  return { createReflogs: logAll !== "false", hook: HOOKS.find((h) => repoConfig.hook(config, h) !== undefined) };
}
