import type { Git } from "./git.ts";
import { KEEPS_FORMAT, parseKeeps, resolveKept } from "./keptVersions.ts";
import { readIfExists } from "./readIfExists.ts";
import { isStatePath } from "./repoContent.ts";
import { parseRollbacks, ROLLBACK_FORMAT } from "./rollbackTrailer.ts";

export interface Change {
  readonly depth: number;
  readonly commit: string;
  /** The commit says it rolls this file back (a Rollback trailer, rollbackTrailer.ts): rollouts do not stage it. */
  readonly rollback?: true;
}

interface LogEntry {
  readonly commit: string;
  readonly firstParent: string | undefined;
  readonly time: number;
  /** State paths changed against the first parent → their blob after this commit (undefined: deleted). */
  readonly changes: ReadonlyMap<string, string | undefined>;
  /** Keeps-Version trailers: path → the commit whose version the path keeps (see keptVersions.ts). */
  readonly keeps: ReadonlyMap<string, string>;
  /** Rollback trailers: the paths the commit says it rolls back. */
  readonly rollbacks: ReadonlySet<string>;
}

const NO_BLOB = /^0+$/;
const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const SAVED_FORMAT = 1;

/** How the first move (the server's start) found the versions. */
export interface VersionStartup {
  /** Continued from the index saved by an earlier run, instead of walking the whole history. */
  readonly restored: boolean;
  /** First-parent commits read with `git log` for it. */
  readonly walked: number;
}

/**
 * Tracks, along HEAD's first-parent chain, the depth of HEAD and the last commit that changed each
 * state file: a config's version is that commit's depth (docs/store.md "Versions", with the Keeps-Version exception). Moving
 * forward reads only the new commits; anything else (a reset, a rewrite) rereads the chain once.
 */
export class VersionIndex {
  head: string | undefined;
  depth = 0;
  /** HEAD's commit time, unix milliseconds. */
  committedAt = 0;
  private lastChange = new Map<string, Change>();
  startup: VersionStartup | undefined;

  /**
   * `savedAt`: a file (inside .git) where the index is kept between runs, so that a restart reads
   * only the commits made since, not the whole history (which is ~0.1 ms per commit here).
   */
  constructor(
    private readonly git: Git,
    private readonly savedAt?: string,
    /** Replaces a file atomically (ServerFiles.writeAtomic). */
    private readonly writeAtomic?: (path: string, data: string) => void,
  ) {}

  changeOf(path: string): Change | undefined {
    return this.lastChange.get(path);
  }

  /**
   * Moves to `target`; returns the state paths changed since the previous head (all, after a full
   * read), each with the blob it has at `target` (undefined when deleted).
   */
  async moveTo(target: string | undefined): Promise<{ changed: Map<string, string | undefined>; full: boolean }> {
    if (target === this.head) return { changed: new Map(), full: false };
    if (target === undefined) {
      this.reset();
      return { changed: new Map(), full: true };
    }
    const restored = this.head === undefined && this.restore();
    if (restored && target === this.head) {
      this.startup = { restored, walked: 0 };
      return { changed: new Map(), full: true };
    }
    if (this.head !== undefined) {
      // A saved head may be gone (history rewritten, then pruned): then the whole walk follows.
      const entries = await this.log(`${this.head}..${target}`).catch((e: unknown) => {
        if (restored) return [];
        throw e;
      });
      const oldest = entries[entries.length - 1];
      if (oldest && oldest.firstParent === this.head) {
        const changed = this.record(entries, this.depth + entries.length, await this.kept(entries, this.depth + entries.length));
        this.finish(target, this.depth + entries.length, entries[0]?.time ?? 0);
        if (restored) this.startup = { restored, walked: entries.length };
        return { changed, full: restored };
      }
    }
    const first = this.startup === undefined;
    const entries = await this.log(target);
    const kept = await this.kept(entries, entries.length);
    this.reset();
    const changed = this.record(entries, entries.length, kept);
    this.finish(target, entries.length, entries[0]?.time ?? 0);
    if (first) this.startup = { restored: false, walked: entries.length };
    this.save();
    return { changed, full: true };
  }

  /** Keeps the index for the next run (after a whole walk, and when the server stops). Never throws. */
  save(): void {
    if (this.savedAt === undefined || this.writeAtomic === undefined || this.head === undefined) return;
    try {
      const data = { format: SAVED_FORMAT, head: this.head, depth: this.depth, committedAt: this.committedAt, changes: [...this.lastChange].map(([p, c]) => (c.rollback ? [p, c.depth, c.commit, 1] : [p, c.depth, c.commit])) };
      this.writeAtomic(this.savedAt, JSON.stringify(data));
    } catch {
      // Only a faster next start is lost.
    }
  }

  /** Loads the saved index when it is present and well-formed; anything else means a whole walk. */
  private restore(): boolean {
    if (this.savedAt === undefined) return false;
    let data: { format?: unknown; head?: unknown; depth?: unknown; committedAt?: unknown; changes?: unknown };
    try {
      data = JSON.parse(readIfExists(this.savedAt)?.toString("utf8") ?? "") as typeof data;
    } catch {
      return false; // absent or not JSON
    }
    const { head, depth, committedAt, changes } = data;
    const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0;
    if (data.format !== SAVED_FORMAT || typeof head !== "string" || !COMMIT_ID.test(head) || !count(depth) || typeof committedAt !== "number" || !Array.isArray(changes)) return false;
    const lastChange = new Map<string, Change>();
    for (const c of changes as unknown[]) {
      // A fourth element 1: the change is a rollback (absent from files written before it existed).
      if (!Array.isArray(c) || c.length < 3 || c.length > 4) return false;
      const [path, d, commit, rollback] = c as unknown[];
      if (typeof path !== "string" || !isStatePath(path) || !count(d) || d > depth || typeof commit !== "string" || !COMMIT_ID.test(commit) || (c.length === 4 && rollback !== 1)) return false;
      lastChange.set(path, rollback === 1 ? { depth: d, commit, rollback: true } : { depth: d, commit });
    }
    this.lastChange = lastChange;
    this.finish(head, depth, committedAt / 1000);
    return true;
  }

  /** Records first-parent commits given newest first, the newest at depth `top`; returns the paths they touched, with their newest blobs. */
  private record(entries: readonly LogEntry[], top: number, kept: ReadonlyMap<string, Change>): Map<string, string | undefined> {
    const seen = new Map<string, string | undefined>();
    let depth = top;
    for (const e of entries) {
      for (const [p, blob] of e.changes) {
        if (seen.has(p)) continue; // a newer commit in this batch already changed it
        seen.set(p, blob);
        this.lastChange.set(p, kept.get(`${e.commit} ${p}`) ?? (e.rollbacks.has(p) && blob !== undefined ? { depth, commit: e.commit, rollback: true } : { depth, commit: e.commit }));
      }
      depth--;
    }
    return seen;
  }

  /**
   * The changes that keep an earlier version (Keeps-Version trailers that hold), keyed by
   * "commit path"; entries newest first, the newest at depth `top`. Only commits carrying the
   * trailer cost git calls, and only the newest change of each path matters.
   */
  private async kept(entries: readonly LogEntry[], top: number): Promise<Map<string, Change>> {
    const kept = new Map<string, Change>();
    const seen = new Set<string>();
    let depth = top;
    for (const e of entries) {
      for (const [p, blob] of e.changes) {
        if (seen.has(p)) continue;
        seen.add(p);
        const named = e.keeps.get(p);
        if (named === undefined || blob === undefined) continue;
        const change = await resolveKept(this.git, e.commit, depth, p, named);
        if (change) kept.set(`${e.commit} ${p}`, change);
      }
      depth--;
    }
    return kept;
  }

  /** Records a commit made by this process on top of the current head (or as the root commit); `rollbacks`: the paths its Rollback trailers name. */
  advanceOne(commit: string, paths: readonly string[], timeMs: number, rollbacks: ReadonlySet<string> = new Set()): void {
    this.depth += 1;
    for (const p of paths) this.lastChange.set(p, rollbacks.has(p) ? { depth: this.depth, commit, rollback: true } : { depth: this.depth, commit });
    this.head = commit;
    this.committedAt = timeMs;
  }

  private reset(): void {
    this.head = undefined;
    this.depth = 0;
    this.committedAt = 0;
    this.lastChange = new Map();
  }

  private finish(head: string, depth: number, time: number): void {
    this.head = head;
    this.depth = depth;
    this.committedAt = time * 1000;
  }

  /**
   * First-parent commits of a range, newest first, with the state paths each changed against its
   * first parent and their new blobs (`--raw`), so a reload can read exactly those blobs.
   */
  private async log(range: string): Promise<LogEntry[]> {
    const out = await this.git.raw([
      "-c", "core.quotePath=false", "log", "--first-parent", "--diff-merges=first-parent", "--no-renames",
      "--raw", "--no-abbrev", `--format=%x01%H %P%x02%ct%x02${KEEPS_FORMAT}%x02${ROLLBACK_FORMAT}`, range, "--",
    ]);
    const entries: LogEntry[] = [];
    for (const chunk of out.split("\x01")) {
      if (chunk === "") continue;
      const lines = chunk.split("\n");
      const [ids = "", time = "0", keeps = "", rollbacks = ""] = (lines[0] ?? "").split("\x02");
      const [commit = "", firstParent] = ids.split(" ");
      const changes = new Map<string, string | undefined>();
      for (const line of lines.slice(1)) {
        // ":100644 100644 <old> <new> M\t<path>"
        const tab = line.indexOf("\t");
        if (!line.startsWith(":") || tab < 0) continue;
        const path = line.slice(tab + 1);
        if (!isStatePath(path)) continue;
        const blob = line.slice(0, tab).split(" ")[3] ?? "";
        changes.set(path, NO_BLOB.test(blob) ? undefined : blob);
      }
      entries.push({ commit, firstParent, time: Number(time), changes, keeps: parseKeeps(keeps), rollbacks: parseRollbacks(rollbacks) });
    }
    return entries;
  }
}
