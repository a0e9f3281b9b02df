import { DomainError } from "../domain/errors.ts";
import { commitMessage } from "../domain/identity.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { WritePlan } from "../domain/userOps.ts";
import type { Author, CommitBackend } from "./git/commitBackend.ts";
import { faultPoint } from "../faults.ts";
import { LockBusy } from "./git/lockFile.ts";
import { fileWrite, rollbackPaths, withTrailers } from "./plannedFiles.ts";
import { PushTurns } from "./pushTurns.ts";
import type { RemoteSync } from "./remoteSync.ts";
import { repairLeftovers } from "./repair.ts";
import { formatProblem } from "../problemFormat.ts";
import type { RefusedCommit, ServedSnapshot } from "./servedSnapshot.ts";
import type { Problem } from "../domain/types.ts";
import { withoutRepositoryPaths } from "./repoPaths.ts";
import { DEFAULT_MAX_FILE_SIZE } from "./stateTree.ts";
import { checkClean, checkWrites, refuseDuringOperation } from "./writeChecks.ts";
import type { FileWrite, TransactionContext } from "./writeTransaction.ts";

/** Whether writes are committed in-process or by git, and why not in-process. */
export interface WriterMode {
  readonly mode: "in-process" | "git" | "not yet written";
  readonly reason?: string;
}

/** Who asked for a write and why: the commit's author (the server stays its committer) and subject. */
export interface WriteOptions {
  readonly author?: Author;
  /** One line; the plan's message then follows it in the commit's body. */
  readonly message?: string;
  /**
   * The write repairs a refused HEAD (a rollback): while HEAD fails validation it is planned and
   * committed on top of HEAD (not refused like other writes), and the served state follows only
   * if the new commit validates.
   */
  readonly onRefusedHead?: boolean;
}

/** A HEAD that fails validation, as a repairing write's plan sees it. */
export interface RefusedHead {
  readonly commit: string;
  readonly problems: readonly Problem[];
  /** Its state files' texts by path. */
  readonly texts: ReadonlyMap<string, string>;
}

export interface WriteResult {
  readonly state: RepoState;
  /** The new commit, or undefined when the write changed nothing. */
  readonly commit: string | undefined;
  /** After a repairing write: HEAD still fails validation (the served state stayed), and why. */
  readonly refused?: RefusedCommit;
}

/** Re-plans always allowed when the local branch moved under a write (someone committed in the repository); more while within the lock wait. */
const MIN_LOCAL_ATTEMPTS = 5;
/** How long one write keeps re-planning while the remote rejects its push (others are pushing). */
const REMOTE_RETRY_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface WriterEvents {
  /** The server's own leftovers of an interrupted write were repaired (what was done). */
  onRepaired?(done: readonly string[]): void;
}

/**
 * The writer: plan → commit → push → serve, or undo. One write at a time (the caller holds the
 * store's lock). Each attempt plans on the freshly loaded served state, checks the written files
 * hold no one's uncommitted edits, and commits through the first backend that accepts the
 * repository (in-process, else git), which compares-and-swaps on that state's commit: the store
 * then serves exactly the commit made, or plans again when the branch moved. With a remote the
 * commit is acknowledged only once pushed; a rejected push drops the local commit, follows the
 * remote and plans again, taking turns with the other servers (pushTurns.ts).
 */
export class RepoWriter {
  /** How the last write was committed, for /status. */
  mode: WriterMode = { mode: "not yet written" };
  private readonly turns = new PushTurns();

  constructor(
    private readonly snapshot: ServedSnapshot,
    private readonly ctx: TransactionContext,
    private readonly backends: readonly CommitBackend[],
    /** The server's identity: every commit's committer, and its author unless the write names one. */
    private readonly identity: Author,
    private readonly remote: RemoteSync | undefined,
    private readonly events: WriterEvents,
    private readonly maxFileSize = DEFAULT_MAX_FILE_SIZE,
  ) {}

  /**
   * Applies one write. Throws the plan's DomainError untouched; any later failure is undone before
   * it is reported, so an answered write is committed (and pushed) and a refused one left no trace.
   */
  async write(plan: (state: RepoState, head?: RefusedHead) => WritePlan, options: WriteOptions = {}): Promise<WriteResult> {
    const repaired = await repairLeftovers(this.ctx).catch((e: unknown) => {
      throw busy(e, "repairing an interrupted earlier write", this.ctx.files);
    });
    if (repaired.length > 0) this.events.onRepaired?.(repaired);
    refuseDuringOperation(this.ctx.files.gitDir);
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      await this.turns.yieldTurn();
      // Others are pushing: start from what they pushed meanwhile, not from a push bound to fail.
      if (this.remote && this.turns.contended()) await this.remote.catchUp();
      const state = await this.snapshot.refresh();
      const refused = this.snapshot.refused;
      if (refused && !options.onRefusedHead) {
        const first = refused.problems[0];
        throw new DomainError("Conflict", `The repository's HEAD ${refused.commit.slice(0, 12)} is invalid (${refused.problems.length} problem(s), first: ${first ? formatProblem(first) : "unknown"}); fix it with a commit before writing through the API.`);
      }
      // A repairing write goes on top of the refused HEAD, with its files; any other on the served commit.
      const head: RefusedHead | undefined = refused ? { ...refused, texts: this.snapshot.refusedTexts } : undefined;
      const base = { commit: head ? head.commit : state.commit, texts: head ? head.texts : this.snapshot.texts };
      const p = plan(state, head);
      if (p.changes.length === 0) return { state, commit: undefined, ...(refused ? { refused } : {}) };
      const files = p.changes.map((c) => fileWrite(c, base.texts));
      const paths = files.map((f) => f.path);
      checkWrites(this.ctx.files.workTree, files, this.maxFileSize);
      checkClean(this.ctx.files.workTree, paths, base.texts);
      faultPoint("planned");
      const commitStarted = performance.now();
      const commit = await this.commitFiles(base, files, withTrailers(commitMessage(p.message, options.message), p.changes), options.author ?? this.identity);
      if (commit === undefined) {
        // Someone else committed between the plan and the ref update: plan again on their commit,
        // for as long as a held lock would be waited for.
        if (attempt >= MIN_LOCAL_ATTEMPTS && performance.now() - started > this.ctx.lockWaitMs) {
          throw new DomainError("ServerBusy", `The repository kept moving while this write was being saved (${attempt} attempts); the change was not made. Retry in a moment.`);
        }
        await sleep(Math.random() * Math.min(5 * attempt, 50));
        continue;
      }
      const rollbacks = rollbackPaths(p.changes);
      if (!this.remote) return this.serve(state, commit, files, commitStarted, head !== undefined, rollbacks);
      const pushStarted = performance.now();
      const pushed = await this.remote.push();
      this.turns.pushTook(performance.now() - pushStarted);
      if (pushed.ok) {
        this.turns.tookTurn();
        faultPoint("pushed");
        return this.serve(state, commit, files, commitStarted, head !== undefined, rollbacks);
      }
      // Not on the remote, so not acknowledged: the local commit goes (replaced by the remote's
      // tip when the write is planned again, else undone).
      const retry = pushed.rejected && performance.now() - started <= REMOTE_RETRY_MS;
      if (retry) this.turns.lostTurn();
      const tip = retry ? await this.remote.fetch().catch(() => undefined) : undefined;
      if (tip === undefined) {
        await this.dropLocalCommit(base.commit, paths);
        await this.snapshot.refresh();
        if (!pushed.rejected) throw new DomainError("ServerBusy", `The change was not saved: pushing to the remote failed (${pushed.error}). Retry later.`);
        if (!retry) throw new DomainError("ServerBusy", `The change was not saved: other writers kept moving the remote for ${Math.round(REMOTE_RETRY_MS / 1000)} s (${attempt} attempts; last: ${pushed.error}). Retry later.`);
        throw new DomainError("ServerBusy", `The change was not saved: the push was rejected and the remote ${this.remote.lastFetchError ? `cannot be fetched (${this.remote.lastFetchError})` : "has no branch to follow"}. Retry later.`);
      }
      await this.followRemoteAfterRejection(base, paths, tip, head !== undefined);
    }
  }

  /** Commits through the first backend that takes the repository; undefined when the branch moved. */
  private async commitFiles(base: { commit: string; texts: ReadonlyMap<string, string> }, files: readonly FileWrite[], message: string, author: Author): Promise<string | undefined> {
    const texts = base.texts;
    const request = { base: base.commit || undefined, files, before: new Map(files.map((f) => [f.path, texts.get(f.path)])), message, author, committer: this.identity };
    let reason: string | undefined;
    try {
      for (const backend of this.backends) {
        const outcome = await backend.commit(request);
        if (outcome.kind === "declined") {
          reason = outcome.reason;
          continue;
        }
        if (outcome.kind === "moved") return undefined;
        this.mode = reason === undefined ? { mode: backend.mode } : { mode: backend.mode, reason };
        return outcome.commit;
      }
    } catch (e) {
      throw busy(e, `committing "${message}"`, this.ctx.files);
    }
    throw new DomainError("InternalServerError", `Could not commit "${message}": no commit backend accepted the repository (${reason ?? "no reason"}).`);
  }

  private async serve(base: RepoState, commit: string, files: readonly FileWrite[], started: number, onRefusedHead: boolean, rollbacks: ReadonlySet<string>): Promise<WriteResult> {
    if (onRefusedHead) {
      // On a refused HEAD the commit is loaded like anyone's: served if it now validates.
      const state = await this.snapshot.refresh();
      const refused = this.snapshot.refused;
      return { state, commit, ...(refused ? { refused } : {}) };
    }
    return this.snapshot.adoptOwnCommit(base, commit, files, started, rollbacks).then((state) => ({ state, commit }));
  }

  /**
   * The remote moved under a write: move from the local commit straight to the remote's tip (which
   * also takes the write out of the working tree and index), and re-plan unless the remote changed
   * the same files. `base` holds the texts the write was planned on (the served commit's, or a
   * refused HEAD's for a repair), so they tell what changed.
   */
  private async followRemoteAfterRejection(base: { commit: string; texts: ReadonlyMap<string, string> }, paths: readonly string[], tip: string, repair: boolean): Promise<void> {
    const baseTexts = new Map(paths.map((p) => [p, base.texts.get(p)]));
    try {
      await (this.remote as RemoteSync).moveTo(tip, false);
    } catch (e) {
      // The local commit must not outlive its refused write (a later sync would push it).
      await this.dropLocalCommit(base.commit, paths);
      throw e;
    }
    await this.snapshot.refresh();
    // A repair compares with the (still refused) tip's files; any other write is refused on re-planning.
    const now = this.snapshot.refused ? (repair ? this.snapshot.refusedTexts : undefined) : this.snapshot.texts;
    const changedThere = now ? paths.filter((p) => now.get(p) !== baseTexts.get(p)) : [];
    if (!base.commit) changedThere.push(...paths.filter((p) => !changedThere.includes(p)));
    if (changedThere.length > 0) {
      throw new DomainError("Conflict", `Conflict: ${changedThere.join(", ")} changed on the remote (now at ${tip.slice(0, 12)}) while this write was being saved; the change was not applied. Read the current state and retry.`);
    }
  }

  private async dropLocalCommit(base: string, paths: readonly string[]): Promise<void> {
    const git = this.ctx.git;
    if (base) await git.raw(["reset", "-q", "--keep", base]);
    else {
      await git.raw(["update-ref", "-d", "HEAD"]);
      for (const path of paths) this.ctx.files.writeWorkTree(path, undefined);
      await git.raw(["rm", "-q", "--cached", "--ignore-unmatch", "--", ...paths]).catch(() => undefined);
    }
  }
}

/**
 * A held lock becomes ServerBusy naming it; anything else an internal error naming what failed.
 * The client's message names paths relative to the repository; the original error (full paths)
 * is the DomainError's cause, for the log.
 */
function busy(e: unknown, doing: string, files: { readonly workTree: string; readonly gitDir: string }): DomainError {
  if (e instanceof DomainError) return e;
  const relative = (text: string) => withoutRepositoryPaths(text, files.workTree, files.gitDir);
  const refused =
    e instanceof LockBusy
      ? new DomainError("ServerBusy", `The change was not made: ${relative(e.message)}. Retry in a moment.`)
      : new DomainError("InternalServerError", `Failed ${doing}: ${relative(((e as Error).message ?? String(e)).trim())}`);
  refused.cause = e;
  return refused;
}
