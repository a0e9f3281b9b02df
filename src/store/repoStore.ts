import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Mutex } from "async-mutex";
import { DomainError } from "../domain/errors.ts";
import { commitMessage, formatPerson } from "../domain/identity.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { Problem } from "../domain/types.ts";
import type { Change, WritePlan } from "../domain/userOps.ts";
import { formatProblem } from "../problemFormat.ts";
import { DirectCommitter, type FileWrite } from "./directCommit.ts";
import { DEFAULT_AUTHOR, Git } from "./git.ts";
import { configPath, groupPath } from "./repoContent.ts";
import { RemoteSync, type RemoteOptions, type SyncReport } from "./remoteSync.ts";
import { readIfExists } from "./readIfExists.ts";
import { SnapshotLoader, type LoadResult } from "./snapshotLoader.ts";
import type { VersionStartup } from "./versionIndex.ts";
import { renderConfig, renderGroup } from "./yamlCodec.ts";

export interface Author {
  readonly name: string;
  readonly email: string;
}

export interface RefusedCommit {
  readonly commit: string;
  readonly problems: readonly Problem[];
}

export interface StoreEvents {
  /** A new state is served (after a write or after someone else's commit). */
  onServed?(state: RepoState, previous: RepoState, reloadMs: number): void;
  /** HEAD failed validation; the previous state stays served. */
  onRefused?(refused: RefusedCommit): void;
  /** A sync with the remote ended (successfully or not). */
  onSynced?(report: SyncReport): void;
  /** A write that held the lock ended; time queued behind other writes is excluded. */
  onWritten?(result: "committed" | "unchanged" | "failed", seconds: number): void;
}

const MAX_PUSH_ATTEMPTS = 5;

/** Whether writes are committed in-process or by `git commit`, and why not in-process. */
export interface WriterMode {
  readonly mode: "in-process" | "git" | "not yet written";
  readonly reason?: string;
}

/** Who asked for a write and why: the commit's author (the server stays its committer) and subject. */
export interface WriteOptions {
  readonly author?: Author;
  /** One line; the plan's message then follows it in the commit's body. */
  readonly message?: string;
}

export interface WriteResult {
  readonly state: RepoState;
  /** The new commit, or undefined when the write changed nothing. */
  readonly commit: string | undefined;
}

/**
 * The git-backed store: serves an immutable RepoState of HEAD and turns User API writes into
 * commits, one at a time. A commit that fails validation is never served.
 */
export class RepoStore {
  private readonly lock = new Mutex();
  private readonly loader: SnapshotLoader;
  private served: LoadResult;
  /** The last HEAD that failed validation, while it is still HEAD. */
  refused: RefusedCommit | undefined;
  lastSync: SyncReport | undefined;
  remote: RemoteSync | undefined;
  private closing = false;
  /** How the last write was committed, for /status. */
  writer: WriterMode = { mode: "not yet written" };
  private direct: DirectCommitter | undefined;
  /** Set in read-only mode: every write is refused (Forbidden) with this message, before any work. */
  private readOnlyMessage: string | undefined;

  private constructor(
    readonly dir: string,
    readonly git: Git,
    private readonly author: Author,
    private readonly events: StoreEvents,
    loader: SnapshotLoader,
    initial: LoadResult,
  ) {
    this.loader = loader;
    this.served = initial;
  }

  /** Opens (creating when missing or empty) the repository in `dir` and loads HEAD. */
  static async open(dir: string, options: { author?: Author; events?: StoreEvents; remote?: RemoteOptions; readOnlyMessage?: string } = {}): Promise<RepoStore> {
    const remote = options.remote ? await RemoteSync.prepare(dir, options.remote) : undefined;
    await ensureRepository(dir);
    const git = remote?.git ?? new Git(dir);
    const gitDir = join(dir, ".git");
    const loader = new SnapshotLoader(git, statSync(gitDir).isDirectory() ? join(gitDir, "configserver", "versions.json") : undefined);
    const head = await git.head();
    const first = await loader.load(head);
    const store = new RepoStore(dir, git, options.author ?? DEFAULT_AUTHOR, options.events ?? {}, loader, first);
    store.remote = remote;
    store.readOnlyMessage = options.readOnlyMessage;
    const direct = await DirectCommitter.prepare(git);
    if (typeof direct === "string") store.writer = { mode: "git", reason: direct };
    else store.direct = direct;
    if (!first.state) {
      // A repository whose HEAD is invalid still starts, empty, so the status can say why.
      store.refused = { commit: head ?? "", problems: first.problems };
      store.served = await new SnapshotLoader(git).load(undefined);
      options.events?.onRefused?.(store.refused);
    }
    return store;
  }

  /** The served state; reading it never touches git or the disk. */
  get state(): RepoState {
    return this.served.state as RepoState;
  }

  /** Runs work while no write or sync is in progress. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.lock.runExclusive(work);
  }

  /** Whether `path` on disk is exactly the served commit's text (absent in both counts). */
  async isCommitted(path: string): Promise<boolean> {
    return readText(join(this.dir, path)) === this.served.texts.get(path);
  }

  /** Loads HEAD if it moved (someone else committed, pulled or reset). */
  refresh(): Promise<RepoState> {
    return this.lock.runExclusive(() => this.refreshLocked());
  }

  private async refreshLocked(): Promise<RepoState> {
    const head = await this.git.headFast();
    if (head === this.served.commit && !this.refused) return this.state;
    if (this.refused && head === this.refused.commit) return this.state;
    const started = performance.now();
    return this.adopt(await this.loader.load(head), head ?? "", started);
  }

  /** Serves a loaded commit, or records why it is refused and keeps serving the previous one. */
  private adopt(result: LoadResult, commit: string, started: number): RepoState {
    if (!result.state) {
      this.refused = { commit, problems: result.problems };
      this.events.onRefused?.(this.refused);
      return this.state;
    }
    this.refused = undefined;
    const previous = this.state;
    this.served = result;
    this.events.onServed?.(result.state, previous, performance.now() - started);
    return result.state;
  }

  /**
   * Applies one write: plan against the latest state, write files, commit, push when there is a
   * remote, serve. Throws the plan's DomainError untouched; any later failure is undone before it
   * is reported, so an answered write is committed (and pushed) and a refused one left no trace.
   */
  write(plan: (state: RepoState) => WritePlan, options: WriteOptions = {}): Promise<WriteResult> {
    if (this.readOnlyMessage !== undefined) return Promise.reject(new DomainError("Forbidden", this.readOnlyMessage));
    return this.lock.runExclusive(async () => {
      if (this.closing) throw new DomainError("ServerBusy", "The server is shutting down; the change was not made. Retry in a moment.");
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const result = await this.writeLocked(plan, options);
        this.events.onWritten?.(result.commit ? "committed" : "unchanged", seconds());
        return result;
      } catch (e) {
        this.events.onWritten?.("failed", seconds());
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
    this.loader.saveVersions();
  }

  /** How the version index was found at start: restored from the last run's, and commits walked. */
  get versionStartup(): VersionStartup | undefined {
    return this.loader.versionStartup;
  }

  private async writeLocked(plan: (state: RepoState) => WritePlan, options: WriteOptions): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.refreshLocked();
      if (this.refused) {
        const first = this.refused.problems[0];
        throw new DomainError("InternalServerError", `The repository's HEAD ${this.refused.commit.slice(0, 12)} is invalid (${this.refused.problems.length} problem(s), first: ${first ? formatProblem(first) : "unknown"}); fix it with a commit before writing through the API.`);
      }
      const p = plan(state);
      if (p.changes.length === 0) return { state, commit: undefined };
      const files = p.changes.map((c) => this.fileChange(c));
      const paths = files.map((f) => f.path);
      await this.checkClean(paths);
      const started = performance.now();
      if (!(await this.commitFiles(state, files, commitMessage(p.message, options.message), options.author ?? this.author))) {
        // Someone else committed between the plan and the ref update: plan again on their commit.
        if (attempt >= MAX_PUSH_ATTEMPTS) throw new DomainError("ServerBusy", "The repository kept moving while this write was being saved; the change was not made. Retry in a moment.");
        continue;
      }
      if (!this.remote) return this.serveOwnCommit(state, files, started);
      const pushed = await this.remote.push();
      if (pushed.ok) return this.serveOwnCommit(state, files, started);
      // Not on the remote, so not acknowledged: the local commit goes too.
      await this.dropLocalCommit(state.commit, paths);
      if (!pushed.rejected || attempt >= MAX_PUSH_ATTEMPTS) {
        await this.refreshLocked();
        throw new DomainError("ServerBusy", `The change was not saved: pushing to the remote failed (${pushed.error}). Retry later.`);
      }
      await this.followRemoteAfterRejection(state, paths);
    }
  }

  /**
   * Writes the files and commits them on top of `base`, in-process when the repository allows it
   * (DirectCommitter), else with `git commit`. False when the branch moved away from `base` first
   * (nothing changed). A failure leaves the files, index and branch as they were.
   */
  private async commitFiles(base: RepoState, files: readonly FileWrite[], message: string, author: Author): Promise<boolean> {
    const paths = files.map((f) => f.path);
    const writeFiles = () => {
      for (const f of files) writeAtomically(join(this.dir, f.path), f.text);
    };
    try {
      if (this.direct !== undefined) {
        const result = await this.direct.commit(base.commit || undefined, files, message, { author, committer: this.author }, writeFiles);
        if (result.kind === "moved") return false;
        if (result.kind === "committed") {
          this.writer = { mode: "in-process" };
          return true;
        }
        this.writer = { mode: "git", reason: result.reason };
      }
      writeFiles();
      // Paths the index already tracks need no `git add`: `commit -- paths` takes their
      // working-tree state, deletions included. One process per write is the common case.
      const untracked = files.filter((f) => f.text !== undefined && !this.served.texts.has(f.path)).map((f) => f.path);
      if (untracked.length > 0) await this.git.raw(["add", "--", ...untracked]);
      await this.git.raw([
        "-c", `user.name=${this.author.name}`, "-c", `user.email=${this.author.email}`,
        "commit", "-q", "--no-verify", "--no-gpg-sign", "--no-status", `--author=${formatPerson(author)}`, "-m", message, "--", ...paths,
      ]);
      return true;
    } catch (e) {
      await this.undo(paths);
      throw new DomainError("InternalServerError", `Could not commit "${message}": ${(e as Error).message.trim()}`);
    }
  }

  /** Serves the commit just made from what was written, without rereading it from git. */
  private async serveOwnCommit(base: RepoState, files: readonly FileWrite[], started: number): Promise<WriteResult> {
    const commit = await this.git.headFast();
    if (commit === undefined || base !== this.state) {
      const next = await this.refreshLocked();
      return { state: next, commit: next.commit };
    }
    const result = await this.loader.applyOwnCommit(this.served, commit, new Map(files.map((f) => [f.path, f.text])), Date.now());
    return { state: this.adopt(result, commit, started), commit };
  }

  /** The remote moved under a write: follow it, and re-plan unless it changed the same files. */
  private async followRemoteAfterRejection(base: RepoState, paths: readonly string[]): Promise<void> {
    const remote = this.remote as RemoteSync;
    let tip: string | undefined;
    try {
      tip = await remote.fetch();
    } catch (e) {
      throw new DomainError("ServerBusy", `The change was not saved: ${(e as Error).message}. Retry later.`);
    }
    if (tip === undefined) return;
    const changedThere = base.commit
      ? (await this.git.raw(["diff", "--name-only", "--no-renames", base.commit, tip, "--", ...paths])).split("\n").filter(Boolean)
      : [...paths];
    await remote.moveTo(tip, false);
    await this.refreshLocked();
    if (changedThere.length > 0) {
      throw new DomainError("InternalServerError", `Conflict: ${changedThere.join(", ")} changed on the remote (now at ${tip.slice(0, 12)}) while this write was being saved; the change was not applied. Read the current state and retry.`);
    }
  }

  private async dropLocalCommit(base: string, paths: readonly string[]): Promise<void> {
    if (base) await this.git.raw(["reset", "-q", "--keep", base]);
    else {
      await this.git.raw(["update-ref", "-d", "HEAD"]);
      await this.undo(paths);
    }
  }

  /** Fetches and follows the remote (or, without one, rereads HEAD); never throws. */
  sync(): Promise<SyncReport> {
    return this.lock.runExclusive(async () => {
      const report = this.remote ? await this.remote.sync() : { at: Date.now(), ok: true, action: "no remote; reread HEAD" };
      await this.refreshLocked();
      // Commits skip automatic gc; packing loose objects here keeps the repository fast.
      // It detaches (gc.autoDetach), so the lock is not held for a repack.
      await this.git.raw(["gc", "--auto", "--quiet"]).catch(() => undefined);
      this.lastSync = report;
      this.events.onSynced?.(report);
      return report;
    });
  }

  private fileChange(change: Change): FileWrite {
    switch (change.kind) {
      case "putConfig": {
        const path = configPath(change.config.name);
        return { path, text: renderConfig(change.config, this.served.texts.get(path)) };
      }
      case "putGroup": {
        const path = groupPath(change.group.name);
        return { path, text: renderGroup(change.group, this.served.texts.get(path)) };
      }
      case "deleteConfig":
        return { path: configPath(change.name), text: undefined };
      case "deleteGroup":
        return { path: groupPath(change.name), text: undefined };
    }
  }

  /** Refuses to write over a person's uncommitted edit of the same file. */
  private async checkClean(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      if (readText(join(this.dir, path)) !== this.served.texts.get(path)) {
        throw new DomainError("InternalServerError", `${path} has uncommitted changes in the server's working tree; commit or discard them, then retry.`);
      }
    }
  }

  /** Puts the working tree and index back to the served commit for these paths. */
  private async undo(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const text = this.served.texts.get(path);
      const full = join(this.dir, path);
      writeAtomically(full, text);
    }
    if (this.served.commit) await this.git.raw(["reset", "-q", "--", ...paths]).catch(() => undefined);
    else await this.git.raw(["rm", "-q", "--cached", "--ignore-unmatch", "--", ...paths]).catch(() => undefined);
  }
}

const readText = (path: string) => readIfExists(path)?.toString("utf8");

/** Small state files: written synchronously (tmp + rename), cheaper here than thread-pool round trips. */
function writeAtomically(path: string, text: string | undefined): void {
  if (text === undefined) {
    rmSync(path, { force: true });
    return;
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
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
