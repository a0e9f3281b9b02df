import { join } from "node:path";
import type { ContentLimits } from "./contentCheck.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { Problem } from "../domain/types.ts";
import { formatProblem } from "../problemFormat.ts";
import type { Git } from "./git.ts";
import { readIfExists } from "./readIfExists.ts";
import type { ServerFiles } from "./serverFiles.ts";
import { SnapshotLoader, type LoadResult } from "./snapshotLoader.ts";
import type { VersionStartup } from "./versionIndex.ts";
import type { FileWrite } from "./writeTransaction.ts";

export interface RefusedCommit {
  readonly commit: string;
  readonly problems: readonly Problem[];
}

export interface SnapshotEvents {
  /** A new state is served (after a write or after someone else's commit). */
  onServed?(state: RepoState, previous: RepoState, reloadMs: number): void;
  /** HEAD failed validation; `served` stays served (its commit is "" when there is none: agents are then refused). */
  onRefused?(refused: RefusedCommit, served: RepoState): void;
  /** A commit now served has contents with warnings (credentials in plain text, with --secrets warn). */
  onContentWarnings?(commit: string, warnings: readonly Problem[]): void;
}

/** How far back along HEAD's first-parent chain a start on an invalid HEAD looks for a valid commit. */
const SEARCH_LIMIT = 100;
/** The served commit is remembered at most this often (and at close): a write costs a file write. */
const REMEMBER_EVERY_MS = 5000;
const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The served snapshot: one valid commit's RepoState, swapped atomically, never an invalid HEAD.
 * A start on an invalid HEAD serves the newest valid commit on HEAD's first-parent chain (the
 * last one served, remembered in `.git/configserver/served`, bounds the search), so a restart
 * never empties the fleet; with none, no commit is served and agents are answered ServerBusy.
 * Callers hold the store's lock around everything but the getters.
 */
export class ServedSnapshot {
  /** The last HEAD that failed validation, while it is still HEAD. */
  refused: RefusedCommit | undefined;
  /** The refused HEAD's state files, for a write that repairs it (a rollback). */
  refusedTexts: ReadonlyMap<string, string> = new Map();
  private searched = 0;
  private remembered: { commit: string | undefined; at: number } = { commit: undefined, at: -Infinity };

  private constructor(
    private readonly git: Git,
    private readonly loader: SnapshotLoader,
    private readonly files: ServerFiles,
    private readonly events: SnapshotEvents,
    private served: LoadResult,
    private readonly limits: ContentLimits,
  ) {}

  static async open(git: Git, files: ServerFiles, events: SnapshotEvents, limits: ContentLimits, maxFileSize?: number): Promise<ServedSnapshot> {
    const loader = new SnapshotLoader(git, limits, { path: join(files.root, "versions.json"), writeAtomic: (path, data) => files.writeAtomic(path, data) }, maxFileSize);
    const head = await git.head();
    const first = await loader.load(head);
    const snapshot = new ServedSnapshot(git, loader, files, events, first, limits);
    if (first.state) {
      snapshot.remember(true);
      if (first.warnings?.length) events.onContentWarnings?.(first.commit ?? "", first.warnings);
    }
    else await snapshot.startOnRefusedHead(head as string, first.problems, first.texts);
    return snapshot;
  }

  /** The served state; reading it never touches git or the disk. */
  get state(): RepoState {
    return this.served.state as RepoState;
  }

  /** Committed text of every state file of the served commit. */
  get texts(): ReadonlyMap<string, string> {
    return this.served.texts;
  }

  /** False while no valid commit is loaded (HEAD is invalid and nothing before it could be served). */
  get servable(): boolean {
    return !(this.refused && !this.served.commit);
  }

  /** Why agents are refused, for their answers and /readyz; undefined while servable. */
  get notServableReason(): string | undefined {
    if (this.servable || !this.refused) return undefined;
    const r = this.refused;
    const searched = this.searched > 0 ? ` and none of the ${this.searched} commit(s) before it on its first-parent chain does` : "";
    const first = r.problems[0];
    return `no valid commit is loaded: HEAD ${r.commit.slice(0, 12)} fails validation (${r.problems.length} problem(s), first: ${first ? formatProblem(first) : "unknown"})${searched}; agents keep their configs until a valid commit arrives`;
  }

  get versionStartup(): VersionStartup | undefined {
    return this.loader.versionStartup;
  }

  /** Loads HEAD if it moved (someone else committed, pulled or reset). */
  async refresh(): Promise<RepoState> {
    const head = await this.git.headFast();
    if (head === this.served.commit && !this.refused) return this.state;
    if (this.refused && head === this.refused.commit) return this.state;
    const started = performance.now();
    return this.adopt(await this.loader.load(head), head ?? "", started);
  }

  /**
   * Serves the commit this process just made on `base` (the served state it was planned on), from
   * what it wrote, without rereading it from git: exactly that commit, whatever HEAD is by now.
   * `rollbacks`: the paths its Rollback trailers name (rollbackTrailer.ts).
   */
  async adoptOwnCommit(base: RepoState, commit: string, files: readonly FileWrite[], started: number, rollbacks?: ReadonlySet<string>): Promise<RepoState> {
    const result = base === this.state
      ? await this.loader.applyOwnCommit(this.served, commit, new Map(files.map((f) => [f.path, f.text])), Date.now(), rollbacks)
      : await this.loader.load(commit);
    return this.adopt(result, commit, started);
  }

  /** Saves the version index and the served commit for the next run. */
  close(): void {
    this.loader.saveVersions();
    this.remember(true);
  }

  /** Serves a loaded commit, or records why it is refused and keeps serving the previous one. */
  private adopt(result: LoadResult, commit: string, started: number): RepoState {
    if (!result.state) {
      this.refused = { commit, problems: result.problems };
      this.refusedTexts = result.texts;
      this.events.onRefused?.(this.refused, this.state);
      return this.state;
    }
    this.refused = undefined;
    this.refusedTexts = new Map();
    const previous = this.state;
    this.served = result;
    this.remember(false);
    this.events.onServed?.(result.state, previous, performance.now() - started);
    if (result.warnings?.length) this.events.onContentWarnings?.(commit, result.warnings);
    return result.state;
  }

  /**
   * Keeps the served commit for a restart: at start, at close, and at most every few seconds in
   * between. After a crash it may name a commit served shortly before the last: still a valid one,
   * and only used when the newest valid commit is deeper than the search goes.
   */
  private remember(now: boolean): void {
    const commit = this.served.commit;
    if (!commit || commit === this.remembered.commit) return;
    if (!now && performance.now() - this.remembered.at < REMEMBER_EVERY_MS) return;
    try {
      this.files.writeAtomic(join(this.files.root, "served"), `${commit}\n`);
      this.remembered = { commit, at: performance.now() };
    } catch {
      // Only the restart's shortcut is lost: it then searches the history.
    }
  }

  private async startOnRefusedHead(head: string, problems: readonly Problem[], texts: ReadonlyMap<string, string>): Promise<void> {
    this.refused = { commit: head, problems };
    this.refusedTexts = texts;
    this.served = await new SnapshotLoader(this.git, this.limits).load(undefined);
    const found = await this.newestValidBefore(head);
    if (found !== undefined) {
      const result = await this.loader.load(found);
      if (result.state) this.served = result;
    }
    this.events.onRefused?.(this.refused, this.state);
  }

  /** The newest commit before HEAD on its first-parent chain that validates (see SEARCH_LIMIT). */
  private async newestValidBefore(head: string): Promise<string | undefined> {
    const out = await this.git.raw(["rev-list", "--first-parent", `--max-count=${SEARCH_LIMIT + 1}`, head]).catch(() => "");
    const chain = out.split("\n").filter(Boolean).slice(1);
    for (const commit of chain) {
      this.searched++;
      if ((await this.loader.problemsAt(commit)).length === 0) return commit;
    }
    // Deeper than the search goes: the commit served last, if it is still on the chain.
    const remembered = readIfExists(join(this.files.root, "served"))?.toString("utf8").trim() ?? "";
    if (chain.length < SEARCH_LIMIT || !COMMIT_ID.test(remembered) || chain.includes(remembered)) return undefined;
    const all = (await this.git.raw(["rev-list", "--first-parent", head]).catch(() => "")).split("\n");
    if (!all.includes(remembered)) return undefined;
    return (await this.loader.problemsAt(remembered)).length === 0 ? remembered : undefined;
  }
}

