import { existsSync } from "node:fs";
import { join } from "node:path";
import { Git } from "./git.ts";
import { redactSecrets, shownError } from "./redact.ts";

// The clone a server with --remote works in, as it starts (remoteSync.ts follows the remote from
// there): cloned when missing, kept when present (the remote may be down), on the followed branch.

export interface RemoteOptions {
  readonly url: string;
  readonly branch: string;
  /** Follow a remote branch that is not a fast-forward of what was last seen there. */
  readonly allowHistoryRewrite: boolean;
}

/** Where the followed branch's remote tip is kept. */
export const trackingRefOf = (branch: string) => `refs/remotes/origin/${branch}`;

/** The remote tip last fetched, or undefined when there is none (an empty remote). */
export async function trackingTip(git: Git, trackingRef: string): Promise<string | undefined> {
  try {
    return (await git.raw(["rev-parse", "--verify", "-q", `${trackingRef}^{commit}`])).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes `dir` a clone of the remote: clones when there is no repository yet; otherwise points
 * `origin` at the URL and keeps the local clone (the remote may be down: the clone still serves).
 */
export async function openClone(dir: string, options: RemoteOptions): Promise<Git> {
  const cloned = !existsSync(join(dir, ".git"));
  if (cloned) {
    try {
      await new Git(".").network(["clone", "-q", "--no-tags", "--origin", "origin", options.url, dir]);
    } catch (e) {
      throw new Error(`cannot clone ${redactSecrets(options.url)} into ${dir}, and there is no local clone to start from: ${shownError(e)}`);
    }
  }
  const git = new Git(dir);
  const remotes = (await git.raw(["remote"])).split("\n");
  if (remotes.includes("origin")) await git.raw(["remote", "set-url", "origin", options.url]);
  else await git.raw(["remote", "add", "origin", options.url]);
  if ((await git.head()) === undefined) {
    // A clone of an empty remote, or a fresh directory: be on the branch we follow.
    await git.raw(["symbolic-ref", "HEAD", `refs/heads/${options.branch}`]);
  } else {
    await checkBranch(git, dir, cloned, options);
  }
  return git;
}

/**
 * The clone must have the followed branch checked out: every sync compares HEAD with that
 * remote branch and pushes HEAD to it, so another branch's commits would be pushed there (a
 * release branch would receive the default branch's unreleased changes). A fresh clone is
 * switched to it; an existing clone is never switched behind a person's back.
 */
async function checkBranch(git: Git, dir: string, cloned: boolean, options: RemoteOptions): Promise<void> {
  const { branch } = options;
  const url = redactSecrets(options.url);
  const trackingRef = trackingRefOf(branch);
  const current = (await git.raw(["symbolic-ref", "-q", "--short", "HEAD"]).catch(() => "")).trim();
  if (current === branch) return;
  if (!cloned) {
    throw new Error(`${dir} is a clone on ${current ? `branch ${current}` : "a detached HEAD"}, but --branch is ${branch}: check that branch out (git -C ${dir} switch ${branch}) or start with --branch ${current || "<the branch to follow>"}`);
  }
  if ((await trackingTip(git, trackingRef)) === undefined) {
    const others = (await git.raw(["for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin/"])).split("\n").filter((b) => b && b !== "HEAD");
    throw new Error(`the remote ${url} has no branch ${branch} (it has: ${others.join(", ") || "none"}): create it there (e.g. git push origin main:${branch}) or start with one of those as --branch`);
  }
  await git.raw(["checkout", "-q", "-B", branch, trackingRef]);
}
