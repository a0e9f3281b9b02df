import { statSync } from "node:fs";
import { join } from "node:path";
import { faultPoint } from "../faults.ts";
import type { Git } from "./git.ts";
import { objectWithHeader } from "./git/gitObjects.ts";
import { LockFile } from "./git/lockFile.ts";
import { ownerName, SELF } from "./owner.ts";
import { readIfExists } from "./readIfExists.ts";
import type { ServerFiles } from "./serverFiles.ts";
import { removeIntent, writeIntent, type CommitIntent } from "./writeIntent.ts";

export interface FileWrite {
  readonly path: string;
  /** New content, or undefined to delete the file. */
  readonly text: string | undefined;
}

export interface TransactionContext {
  readonly git: Git;
  readonly files: ServerFiles;
  /** How long a lock held by another process is waited for. */
  readonly lockWaitMs: number;
}

export interface PlannedCommit {
  /** The ref to move: the branch HEAD points to, or HEAD when detached. */
  readonly ref: string;
  /** The planned parent; undefined in an empty repository. */
  readonly base: string | undefined;
  /** The new commit when it is made before any lock is taken (in-process); else recorded later. */
  readonly commit?: string;
  readonly files: readonly FileWrite[];
  /** Each path's committed text at `base` (undefined: absent), to put the working tree back. */
  readonly before: ReadonlyMap<string, string | undefined>;
  /** Whether the transaction takes the ref's lock itself (in-process) or git does (update-ref). */
  readonly locksRef: boolean;
}

/** The blob id git gives these bytes (no filters: what the server wrote to the working tree). */
export const blobId = (text: string): string => objectWithHeader("blob", Buffer.from(text, "utf8")).id;

/**
 * One commit's changes to the repository, in git's order and under git's locks, with an intent
 * record around them so that a crash at any instant can be repaired by the next start
 * (repair.ts; docs/store.md "Crash safety"):
 *
 *   intent written → index.lock taken → branch checked (compare) → working-tree files written →
 *   new index staged in index.lock → [commit made] → branch moved (the commit point) →
 *   index.lock renamed over the index → intent removed.
 *
 * Before the commit point everything is undone on failure (abort); after it the write stands.
 */
export class WriteTransaction {
  private committed = false;
  private wrote = false;
  private refLock: LockFile | undefined;

  private constructor(
    private readonly ctx: TransactionContext,
    private readonly planned: PlannedCommit,
    private intent: CommitIntent,
    private readonly indexLock: LockFile,
  ) {}

  /** Takes index.lock and checks that the ref is still at the planned base; "moved" when it is not (nothing changed). */
  static async begin(ctx: TransactionContext, planned: PlannedCommit): Promise<WriteTransaction | "moved"> {
    const { files } = ctx;
    const indexPath = join(files.gitDir, "index");
    const locks = [{ lock: `${indexPath}.lock`, stub: files.tmpPath("index-lock") }];
    if (planned.locksRef) locks.push({ lock: `${join(files.gitDir, planned.ref)}.lock`, stub: files.tmpPath("ref-lock") });
    const intent: CommitIntent = {
      kind: "commit",
      format: 1,
      owner: ownerName(SELF),
      ref: planned.ref,
      base: planned.base ?? null,
      commit: planned.commit ?? null,
      files: planned.files.map((f) => ({ path: f.path, wrote: f.text === undefined ? null : blobId(f.text) })),
      locks,
    };
    writeIntent(files, intent);
    faultPoint("intent-written");
    let indexLock: LockFile;
    try {
      indexLock = await LockFile.take(indexPath, (locks[0] as { stub: string }).stub, ctx.lockWaitMs);
    } catch (e) {
      removeIntent(files);
      throw e;
    }
    faultPoint("index-locked");
    const tx = new WriteTransaction(ctx, planned, intent, indexLock);
    if ((await ctx.git.resolveRef(planned.ref)) !== planned.base) {
      tx.abort();
      return "moved";
    }
    return tx;
  }

  /** The index as it is now (stable: the lock is held), with the mtime git's racy check needs. */
  readIndex(): { bytes: Buffer | undefined; mtimeNs: bigint } {
    const path = join(this.ctx.files.gitDir, "index");
    const bytes = readIfExists(path);
    return { bytes, mtimeNs: bytes ? (statSync(path, { bigint: true }).mtimeNs ?? 0n) : 0n };
  }

  /** Writes the planned files into the working tree, each atomically. */
  writeFiles(): void {
    this.wrote = true;
    for (const f of this.planned.files) this.ctx.files.writeWorkTree(f.path, f.text);
    faultPoint("files-written");
  }

  /** The new index, written into index.lock (renamed into place after the ref moved). */
  stageIndex(bytes: Buffer): void {
    this.indexLock.write(bytes);
    faultPoint("index-staged");
  }

  /** Records the commit made (when it was not known at the start), before the ref moves. */
  recordCommit(commit: string): void {
    this.intent = { ...this.intent, commit };
    writeIntent(this.ctx.files, this.intent, true);
    faultPoint("commit-made");
  }

  /** The ref's lock, for a backend that moves the ref itself; undefined when the ref moved meanwhile. */
  async lockRef(): Promise<LockFile | undefined> {
    const { ref, base } = this.planned;
    const stub = this.intent.locks[1]?.stub;
    if (stub === undefined) throw new Error("this transaction does not lock the ref");
    this.refLock = await LockFile.take(join(this.ctx.files.gitDir, ref), stub, this.ctx.lockWaitMs);
    return this.ctx.git.refTip(ref) === base ? this.refLock : undefined;
  }

  /** Called once the ref points at the new commit: from here on the write stands. */
  refMoved(): void {
    this.committed = true;
    this.refLock = undefined;
    faultPoint("ref-moved");
  }

  /** Renames the staged index into place. */
  async commitIndex(): Promise<void> {
    try {
      this.indexLock.commit();
    } catch {
      // The commit stands; bring the index entries back in line with it the slow way.
      this.indexLock.release();
      await this.ctx.git.raw(["reset", "-q", "--", ...this.planned.files.map((f) => f.path)]).catch(() => undefined);
    }
    faultPoint("index-committed");
  }

  /** The write is complete: the intent goes. */
  finish(): void {
    removeIntent(this.ctx.files);
    faultPoint("finished");
  }

  /**
   * Undoes everything before the commit point: working-tree files the write changed go back to the
   * base's text (unless someone changed them since), locks are released, the intent goes. After the
   * commit point there is nothing to undo, and only the locks and the intent are cleaned up.
   */
  abort(): void {
    if (!this.committed && this.wrote) {
      for (const f of this.planned.files) {
        const now = readIfExists(join(this.ctx.files.workTree, f.path))?.toString("utf8");
        if (now === f.text) this.ctx.files.writeWorkTree(f.path, this.planned.before.get(f.path));
      }
    }
    this.refLock?.release();
    this.indexLock.release();
    removeIntent(this.ctx.files);
  }
}
