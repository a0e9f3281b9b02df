import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ownerName, SELF } from "./owner.ts";
import { tryUnlink } from "./git/lockFile.ts";
import type { ServerFiles } from "./serverFiles.ts";

/** One file of a write: what the server put in the working tree (its blob id), or null for a deletion. */
export interface IntentFile {
  readonly path: string;
  readonly wrote: string | null;
}

/**
 * What a commit in progress is about to do, written before its first change and removed after its
 * last (docs/store.md "Crash safety"). With it, a restart after a crash knows which locks, files and
 * index entries were the dead write's, and whether it got past its commit point (the branch moving
 * from `base` to `commit`).
 */
export interface CommitIntent {
  readonly kind: "commit";
  readonly format: 1;
  readonly owner: string;
  /** The ref the commit moves: the branch HEAD points to, or HEAD itself when detached. */
  readonly ref: string;
  /** The planned parent (null in an empty repository). */
  readonly base: string | null;
  /** The new commit, once it exists (the in-process writer knows it before taking any lock). */
  readonly commit: string | null;
  readonly files: readonly IntentFile[];
  /** Locks this write may take: each `<file>.lock` is linked from its stub (see LockFile). */
  readonly locks: readonly { readonly lock: string; readonly stub: string }[];
}

/** The server's own `git rebase` (replaying local commits onto a moved remote). */
export interface RebaseIntent {
  readonly kind: "rebase";
  readonly format: 1;
  readonly owner: string;
  readonly onto: string;
  readonly orig: string;
}

export type Intent = CommitIntent | RebaseIntent;

/** The intent file of this process (one write or rebase at a time: the store's lock). */
export function ownIntentPath(files: ServerFiles): string {
  return join(files.intents, `${ownerName(SELF)}.json`);
}

/**
 * Writes this process's intent. The first write of a write's intent goes straight to its file:
 * it precedes every change the write makes, so a crash that tears it leaves nothing else, and a
 * torn file (not JSON) is simply removed by repair. A rewrite (`replace`) must be atomic: by then
 * the intent lists locks that are held.
 */
export function writeIntent(files: ServerFiles, intent: Intent, replace = false): void {
  if (replace) files.writeAtomic(ownIntentPath(files), JSON.stringify(intent));
  else writeFileSync(ownIntentPath(files), JSON.stringify(intent));
}

export function removeIntent(files: ServerFiles): void {
  tryUnlink(ownIntentPath(files));
}

export interface FoundIntent {
  readonly path: string;
  /** The owner's name (the file name without .json). */
  readonly owner: string;
  /** Undefined when the file is not a complete intent (torn by a crash before any change was made). */
  readonly intent: Intent | undefined;
}

/** Every intent file in the server's folder (usually none: one readdir). */
export function findIntents(files: ServerFiles): FoundIntent[] {
  let names: string[];
  try {
    names = readdirSync(files.intents);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".json"))
    .map((n) => {
      const path = join(files.intents, n);
      let intent: Intent | undefined;
      try {
        const parsed = JSON.parse(readFileSync(path, "utf8")) as Intent;
        if (parsed.format === 1 && (parsed.kind === "commit" || parsed.kind === "rebase")) intent = parsed;
      } catch {
        intent = undefined;
      }
      return { path, owner: n.slice(0, -".json".length), intent };
    });
}
