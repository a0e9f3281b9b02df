import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ownerName, SELF } from "./owner.ts";

/**
 * The server's own folder inside the repository's git directory, `.git/configserver/`:
 *
 *   versions.json         the version index, kept between runs
 *   served                the commit served last, for a restart on an invalid HEAD
 *   intents/<owner>.json  a write in progress (docs/store.md "Crash safety")
 *   tmp/<owner>/          temporary files and lock stubs of one server process
 *
 * Everything the server creates and could leave behind is in here or named after its owner, so a
 * restart can tell its own leftovers from anything a person made.
 */
export class ServerFiles {
  readonly root: string;
  readonly intents: string;
  readonly tmpRoot: string;
  /** This process's temporary folder. */
  readonly tmp: string;
  /** Whether the working tree is on the git directory's filesystem (a rename between them works). */
  private readonly sameDevice: boolean;
  private counter = 0;

  constructor(
    readonly gitDir: string,
    readonly workTree: string,
  ) {
    this.root = join(gitDir, "configserver");
    this.intents = join(this.root, "intents");
    this.tmpRoot = join(this.root, "tmp");
    this.tmp = join(this.tmpRoot, ownerName(SELF));
    mkdirSync(this.tmp, { recursive: true });
    mkdirSync(this.intents, { recursive: true });
    this.sameDevice = statSync(workTree).dev === statSync(gitDir).dev;
  }

  /** A fresh path in this process's temporary folder. */
  tmpPath(label: string): string {
    return join(this.tmp, `${label}-${this.counter++}`);
  }

  /**
   * A fresh name for a loose object's temporary file. It is made inside the object's fan-out
   * folder, as git does: a folder holding a file cannot be removed by a concurrent
   * `git prune-packed`, so the rename into place cannot fail. `tmp_obj_` is the prefix git's own
   * prune clears after two weeks; repair.ts clears a dead server's at once.
   */
  objectTmpName(): string {
    return `${OBJECT_TMP_PREFIX}${ownerName(SELF)}_${this.counter++}`;
  }

  /** Replaces a file under the git directory atomically (written in the temporary folder, then renamed). */
  writeAtomic(target: string, data: string | Buffer): void {
    renameInto(this.writeTmp(basename(target), data), target);
  }

  /** A new temporary file with these contents; returns its path. */
  writeTmp(label: string, data: string | Buffer, mode?: number): string {
    const tmp = this.tmpPath(label);
    this.writeFile(tmp, data, mode);
    return tmp;
  }

  /**
   * Replaces (text) or removes (undefined) a working-tree file atomically: a crash leaves either
   * the old or the new file, never a part. Temporary files live in the server's folder; only when
   * the working tree is on another filesystem are they made beside the target, named
   * `.configserver-tmp-<owner>-<n>` (a dot file, which the server never reads as state).
   */
  writeWorkTree(path: string, text: string | undefined): void {
    const full = join(this.workTree, path);
    if (text === undefined) {
      rmSync(full, { force: true });
      return;
    }
    const tmp = this.sameDevice ? this.tmpPath("worktree") : join(dirname(full), `${WORKTREE_TMP_PREFIX}${ownerName(SELF)}-${this.counter++}`);
    if (!this.sameDevice) mkdirSync(dirname(full), { recursive: true });
    this.writeFile(tmp, text);
    renameInto(tmp, full);
  }

  private writeFile(path: string, data: string | Buffer, mode?: number): void {
    const options = mode === undefined ? {} : { mode };
    try {
      writeFileSync(path, data, options);
    } catch (e) {
      // Someone removed .git/configserver while the server runs: make it again.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data, options);
    }
  }
}

export const OBJECT_TMP_PREFIX = "tmp_obj_cs_";

/** Working-tree temporary files (only when the git directory is on another filesystem). */
export const WORKTREE_TMP_PREFIX = ".configserver-tmp-";

/** rename(2), making the target's folder when it is missing (as git does for refs and objects). */
export function renameInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dirname(to), { recursive: true });
    renameSync(from, to);
  }
}
