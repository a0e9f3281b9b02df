import { closeSync, constants, linkSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** A lock held by someone else for longer than the server waits. */
export class LockBusy extends Error {
  constructor(
    readonly lock: string,
    readonly waitedMs: number,
  ) {
    super(`${lock} is held by another git process (waited ${waitedMs} ms); if no git command is running in the repository, one was killed: remove the file`);
    this.name = "LockBusy";
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How git reports a lock someone else holds (index.lock, a ref's lock). */
const LOCK_HELD = /Unable to create '(.*\.lock)': File exists/;

/**
 * Runs a git command that takes a lock, again and again while another process holds that lock
 * (git itself fails at once on index.lock), for up to `waitMs`; then throws LockBusy.
 * `stillWanted` is asked after each failure: false ends the retries (the command's failure stands).
 */
export async function retryWhileLocked<T>(run: () => Promise<T>, waitMs: number, stillWanted: () => Promise<boolean> = async () => true): Promise<T> {
  const started = performance.now();
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      return await run();
    } catch (e) {
      const held = LOCK_HELD.exec((e as Error).message);
      if (!held || !(await stillWanted())) throw e;
      const waited = performance.now() - started;
      if (waited >= waitMs) throw new LockBusy(held[1] as string, Math.round(waited));
      await pause(Math.min(wait, waitMs - waited));
    }
  }
}

/**
 * git's lock protocol: whoever creates `<file>.lock` exclusively may replace the file, by renaming
 * the lock over it; removing the lock instead abandons the change.
 *
 * The lock is made as a hard link to a stub the server first creates in its own folder: the link
 * is as exclusive as git's O_EXCL open, and from the first instant the lock exists it has the
 * stub's inode. After a crash, a `<file>.lock` with the same inode as a stub of the dead process
 * is provably that process's (no other file can have an inode that is still linked to the stub),
 * and anything else is someone else's, left alone.
 */
export class LockFile {
  private held = true;

  private constructor(
    readonly path: string,
    readonly stub: string,
    private fd: number | undefined,
    /** Made with O_EXCL on a filesystem without hard links: held, but not provably ours after a crash. */
    private readonly direct = false,
  ) {}

  /** `<path>.lock`. */
  get lock(): string {
    return `${this.path}.lock`;
  }

  /**
   * Takes the lock on `path`, retrying for up to `waitMs` while another process holds it, then
   * throws LockBusy. `stub` is a fresh path in the server's temporary folder.
   */
  static async take(path: string, stub: string, waitMs: number): Promise<LockFile> {
    const fd = openSync(stub, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
    const lock = `${path}.lock`;
    const started = performance.now();
    try {
      for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
        try {
          linkSync(stub, lock);
          return new LockFile(path, stub, fd);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // A branch whose folder `git pack-refs --prune` removed (refs/heads/team/): git makes it.
          if (code === "ENOENT") {
            mkdirSync(dirname(lock), { recursive: true });
            continue;
          }
          if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP") {
            // No hard links here: lock as git does. A crash then leaves a lock only a person may remove.
            const direct = await LockFile.takeDirect(lock, started, waitMs);
            closeSync(fd);
            tryUnlink(stub);
            return new LockFile(path, stub, direct, true);
          }
          if (code !== "EEXIST") throw e;
          const waited = performance.now() - started;
          if (waited >= waitMs) throw new LockBusy(lock, Math.round(waited));
          await pause(Math.min(wait, waitMs - waited));
        }
      }
    } catch (e) {
      closeSync(fd);
      tryUnlink(stub);
      throw e;
    }
  }

  private static async takeDirect(lock: string, started: number, waitMs: number): Promise<number> {
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        return openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        const waited = performance.now() - started;
        if (waited >= waitMs) throw new LockBusy(lock, Math.round(waited));
        await pause(Math.min(wait, waitMs - waited));
      }
    }
  }

  /** Whether `lock` is the lock made from `stub` (same inode): the only proof that it is ours. */
  static isOurs(lock: string, stub: string): boolean {
    try {
      const a = lstatSync(lock);
      const b = lstatSync(stub);
      return a.ino === b.ino && a.dev === b.dev;
    } catch {
      return false;
    }
  }

  /** The new contents, written into the lock (which is closed afterwards). */
  write(data: Buffer): void {
    const fd = this.fd as number;
    this.fd = undefined; // a closed descriptor's number may be reused: never close it twice
    try {
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
    } finally {
      closeSync(fd);
    }
  }

  /** Renames the lock over the file: the new contents take effect. */
  commit(): void {
    renameSync(this.lock, this.path);
    this.held = false;
    this.closeStub();
  }

  /** Abandons the change: removes the lock (only if it is still ours). */
  release(): void {
    if (this.held && (this.direct || LockFile.isOurs(this.lock, this.stub))) tryUnlink(this.lock);
    this.held = false;
    this.closeStub();
  }

  private closeStub(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    tryUnlink(this.stub);
  }
}

export function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}
