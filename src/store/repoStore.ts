import { existsSync, rmSync } from "node:fs";
import type { ContentLimits } from "./contentCheck.ts";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Mutex } from "async-mutex";
import { DomainError } from "../domain/errors.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { WritePlan } from "../domain/userOps.ts";
import type { Author } from "./git/commitBackend.ts";
import { DirectCommitter } from "./git/directCommit.ts";
import { Git } from "./git.ts";
import { GitCommitter } from "./git/gitCommit.ts";
import { readIfExists } from "./readIfExists.ts";
import type { RemoteOptions } from "./remoteClone.ts";
import { RemoteSync, type SyncReport } from "./remoteSync.ts";
import { repairAtStart } from "./repair.ts";
import { RepoConfig } from "./repoConfig.ts";
import { restoreRewound, type RewoundRestore } from "./rewoundWrites.ts";
import { RepoWriter, type RefusedHead, type WriteOptions, type WriteResult, type WriterEvents, type WriterMode } from "./repoWriter.ts";
import { ServedSnapshot, type RefusedCommit, type SnapshotEvents } from "./servedSnapshot.ts";
import { ServerFiles } from "./serverFiles.ts";
import { DEFAULT_MAX_FILE_SIZE } from "./stateTree.ts";
import type { StoreStatus } from "./storeStatus.ts";
import type { VersionStartup } from "./versionIndex.ts";
import type { TransactionContext } from "./writeTransaction.ts";

export type { Author } from "./git/commitBackend.ts";
export type { RefusedHead, WriteOptions, WriteResult, WriterMode } from "./repoWriter.ts";
export type { RefusedCommit } from "./servedSnapshot.ts";

export interface StoreEvents extends SnapshotEvents, WriterEvents {
  /** A sync with the remote ended (successfully or not). */
  onSynced?(report: SyncReport): void;
  /** A write that held the lock ended; time queued behind other writes is excluded. */
  onWritten?(result: "committed" | "unchanged" | "failed", seconds: number): void;
  /** A write failed; `error` is what the client is told, its `cause` (when set) the full error for the log. */
  onWriteFailed?(error: unknown): void;
  /** A `git reset --hard` racing a write rewound the server's commit, and it was brought back (or could not be: `error`). */
  onRewoundRestored?(outcome: RewoundRestore): void;
}

export interface StoreOptions {
  /** Committer of every write, and author of those that name none (--author). */
  readonly author: Author;
  readonly events?: StoreEvents;
  readonly remote?: RemoteOptions;
  /** Set in read-only mode: every write is refused (Forbidden) with this message, before any work. */
  readonly readOnlyMessage?: string;
  /** How long a write waits for a lock (index.lock, a ref's lock) another git process holds (--lock-wait). */
  readonly lockWaitMs: number;
  /** The largest state file read or written (default DEFAULT_MAX_FILE_SIZE). */
  readonly maxFileSize?: number;
  /** How configs' contents are checked (--max-config-size, --secrets). */
  readonly contentLimits: ContentLimits;
}

/**
 * The git-backed store, composed of the served snapshot (ServedSnapshot), the writer (RepoWriter,
 * through the commit backends) and the remote (RemoteSync), serialised by one lock: one write
 * or sync at a time. The served state is always a valid commit. Readers that only report use the
 * read-only StoreStatus view of it.
 */
export class RepoStore implements StoreStatus {
  private readonly lock = new Mutex();
  lastSync: SyncReport | undefined;
  private closing = false;
  /** The last commit this server made, while HEAD has not moved on from it (see restoreRewound). */
  private ownCommit: string | undefined;

  private constructor(
    readonly dir: string,
    readonly git: Git,
    private readonly files: ServerFiles,
    private readonly snapshot: ServedSnapshot,
    private readonly repoWriter: RepoWriter,
    readonly remote: RemoteSync | undefined,
    private readonly events: StoreEvents,
    private readonly readOnlyMessage: string | undefined,
    private readonly author: Author,
    private readonly lockWaitMs: number,
    /** How configs' contents are checked; the User API checks a write's content with them too. */
    readonly contentLimits: ContentLimits,
  ) {}

  /**
   * Opens (creating when missing or empty) the repository in `dir`, repairs what a crashed
   * earlier server left in it, and loads the newest valid commit.
   */
  static async open(dir: string, options: StoreOptions): Promise<RepoStore> {
    const remote = options.remote ? await RemoteSync.prepare(dir, options.remote) : undefined;
    await ensureRepository(dir);
    const git = remote?.git ?? new Git(dir);
    const gitDir = (await git.raw(["rev-parse", "--absolute-git-dir"])).trim();
    const workTree = (await git.raw(["rev-parse", "--show-toplevel"])).trim();
    const files = new ServerFiles(gitDir, workTree);
    const events = options.events ?? {};
    const ctx: TransactionContext = { git, files, lockWaitMs: options.lockWaitMs };
    const repaired = await repairAtStart(ctx).catch((e: unknown) => [`could not finish repairing the last run's leftovers (retried before the next write): ${(e as Error).message}`]);
    if (repaired.length > 0) events.onRepaired?.(repaired);
    if (remote) remote.files = files;
    const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
    git.maxBlobBytes = maxFileSize;
    const snapshot = await ServedSnapshot.open(git, files, events, options.contentLimits, maxFileSize);
    const config = new RepoConfig(git, gitDir);
    const writer = new RepoWriter(snapshot, ctx, [new DirectCommitter(ctx, config), new GitCommitter(ctx)], options.author, remote, events, maxFileSize);
    return new RepoStore(dir, git, files, snapshot, writer, remote, events, options.readOnlyMessage, options.author, ctx.lockWaitMs, options.contentLimits);
  }

  /** The served state; reading it never touches git or the disk. */
  get state(): RepoState {
    return this.snapshot.state;
  }

  get servable(): boolean {
    return this.snapshot.servable;
  }

  get notServableReason(): string | undefined {
    return this.snapshot.notServableReason;
  }

  /** The last HEAD that failed validation, while it is still HEAD. */
  get refused(): RefusedCommit | undefined {
    return this.snapshot.refused;
  }

  /** How the last write was committed, for /status. */
  get writer(): WriterMode {
    return this.repoWriter.mode;
  }

  /** How the version index was found at start: restored from the last run's, and commits walked. */
  get versionStartup(): VersionStartup | undefined {
    return this.snapshot.versionStartup;
  }

  /** Runs work while no write or sync is in progress. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.lock.runExclusive(work);
  }

  /** Whether `path` on disk is exactly the served commit's text (absent in both counts). */
  async isCommitted(path: string): Promise<boolean> {
    return readIfExists(join(this.dir, path))?.toString("utf8") === this.snapshot.texts.get(path);
  }

  /** Loads HEAD if it moved (someone else committed, pulled or reset). */
  refresh(): Promise<RepoState> {
    return this.lock.runExclusive(async () => {
      await this.restoreRewound();
      return this.snapshot.refresh();
    });
  }

  /** Brings back the server's last commit when a `git reset --hard` running beside it rewound it (rewoundWrites.ts). */
  private async restoreRewound(): Promise<void> {
    const own = this.ownCommit;
    if (own === undefined || (await this.git.headFast()) === own) return;
    this.ownCommit = undefined;
    const outcome = await restoreRewound(this.git, own, this.author, this.lockWaitMs);
    if (outcome === undefined) return;
    // The restore is itself a move a reset can race: it is watched like the server's own commit.
    if (outcome.restored !== undefined) this.ownCommit = outcome.restored;
    this.events.onRewoundRestored?.(outcome);
  }

  /** Applies one write (RepoWriter.write), after the writes and syncs queued before it. */
  write(plan: (state: RepoState, head?: RefusedHead) => WritePlan, options: WriteOptions = {}): Promise<WriteResult> {
    if (this.readOnlyMessage !== undefined) return Promise.reject(new DomainError("Forbidden", this.readOnlyMessage));
    return this.lock.runExclusive(async () => {
      if (this.closing) throw new DomainError("ServerBusy", "The server is shutting down; the change was not made. Retry in a moment.");
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        await this.restoreRewound();
        const result = await this.repoWriter.write(plan, options);
        if (result.commit) this.ownCommit = result.commit;
        this.events.onWritten?.(result.commit ? "committed" : "unchanged", seconds());
        return result;
      } catch (e) {
        this.events.onWritten?.("failed", seconds());
        this.events.onWriteFailed?.(e);
        throw e;
      }
    });
  }

  /**
   * Refuses writes not yet started (ServerBusy, nothing written); resolves once the write in
   * progress, if any, has committed or failed.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.lock.waitForUnlock();
    this.snapshot.close();
    rmSync(this.files.tmp, { recursive: true, force: true });
  }

  /** Fetches and follows the remote (or, without one, rereads HEAD); never throws. */
  sync(): Promise<SyncReport> {
    return this.lock.runExclusive(async () => {
      let report: SyncReport;
      // Runs in the background (timer, webhook, another replica's announcement): a failure here
      // is a report in /status and the metrics, never a rejection that could end the process.
      try {
        await this.restoreRewound();
        report = this.remote ? await this.remote.sync() : { at: Date.now(), ok: true, action: "no remote; reread HEAD" };
      } catch (e) {
        report = { at: Date.now(), ok: false, action: "sync failed", error: (e as Error).message ?? String(e) };
      }
      try {
        await this.snapshot.refresh();
      } catch (e) {
        if (report.ok) report = { at: Date.now(), ok: false, action: "reload failed", error: (e as Error).message ?? String(e) };
      }
      // Commits skip automatic gc; packing loose objects here keeps the repository fast.
      // It detaches (gc.autoDetach), so the lock is not held for a repack.
      await this.git.raw(["gc", "--auto", "--quiet"]).catch(() => undefined);
      this.lastSync = report;
      this.events.onSynced?.(report);
      return report;
    });
  }
}

/** A missing or empty directory becomes a new repository on `main`; anything else must already be one. */
export async function ensureRepository(dir: string): Promise<void> {
  if (existsSync(join(dir, ".git"))) return;
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new Error(`${dir} is not empty and not a git repository: point --repo at a git repository, or at a new or empty directory`);
  }
  await new Git(dir).raw(["init", "-q", "--initial-branch=main"]);
}
