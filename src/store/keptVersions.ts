import type { Git } from "./git.ts";
import type { Change } from "./versionIndex.ts";

/**
 * The commit trailer a rollback writes when it restores a file to the content agents already
 * hold (docs/store.md "Versions"): `Keeps-Version: configs/NAME.yaml <commit>`, where <commit> is
 * the commit that made the served version. Without it, putting a file back would be one more
 * change of that file, hence a new version, and every agent would reload the same content.
 */
export const KEEPS_TRAILER = "Keeps-Version";

/** `git log --format` placeholder printing the trailer's values, separated by \x03. */
export const KEEPS_FORMAT = `%(trailers:key=${KEEPS_TRAILER},valueonly,separator=%x03)`;

const COMMIT = /^[0-9a-f]{7,64}$/;

/** The trailer values of one commit (KEEPS_FORMAT's output) → path → named commit. */
export function parseKeeps(values: string): Map<string, string> {
  const keeps = new Map<string, string>();
  for (const value of values.split("\x03")) {
    const [path, commit, ...rest] = value.trim().split(/\s+/);
    if (path && commit && rest.length === 0 && COMMIT.test(commit) && !keeps.has(path)) keeps.set(path, commit);
  }
  return keeps;
}

export function keepsTrailer(path: string, commit: string): string {
  return `${KEEPS_TRAILER}: ${path} ${commit}`;
}

/**
 * Checks one trailer of `commit` (at first-parent depth `depth`) that says `path` keeps the version
 * made by `named`: it holds when `named` is on `commit`'s first-parent chain, changed `path`
 * against its own first parent, and left it with exactly the blob `commit` gives it. Then the
 * version (the change) is `named`'s; anything else (a hand-written trailer naming another file's
 * commit, content that differs by one byte) is ignored and the commit is an ordinary change.
 */
export async function resolveKept(git: Git, commit: string, depth: number, path: string, named: string): Promise<Change | undefined> {
  const rev = async (spec: string): Promise<string> => (await git.raw(["rev-parse", "--verify", "-q", spec]).catch(() => "")).trim();
  const full = await rev(`${named}^{commit}`);
  if (!full || full === commit) return undefined;
  const at = Number((await git.raw(["rev-list", "--first-parent", "--count", full]).catch(() => "0")).trim());
  if (!Number.isSafeInteger(at) || at < 1 || at >= depth) return undefined;
  const onChain = (await git.raw(["rev-list", "--first-parent", `--skip=${depth - at}`, "--max-count=1", commit]).catch(() => "")).trim();
  if (onChain !== full) return undefined;
  const [now, then, before] = await Promise.all([rev(`${commit}:${path}`), rev(`${full}:${path}`), rev(`${full}^:${path}`)]);
  if (!now || now !== then || before === then) return undefined;
  return { depth: at, commit: full };
}
