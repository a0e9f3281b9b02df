import type { Git } from "./git.ts";
import { isStatePath } from "./repoContent.ts";

export interface Change {
  readonly depth: number;
  readonly commit: string;
}

interface LogEntry {
  readonly commit: string;
  readonly firstParent: string | undefined;
  readonly time: number;
  readonly paths: readonly string[];
  /** The blob each path has after this commit (undefined: deleted), as `--raw` reports it. */
  readonly blobs: readonly (string | undefined)[];
}

const NO_BLOB = /^0+$/;

/**
 * Tracks, along HEAD's first-parent chain, the depth of HEAD and the last commit that changed each
 * state file: a config's version is that commit's depth (DESIGN.md "State and versions"). Moving
 * forward reads only the new commits; anything else (a reset, a rewrite) rereads the chain once.
 */
export class VersionIndex {
  head: string | undefined;
  depth = 0;
  /** HEAD's commit time, unix milliseconds. */
  committedAt = 0;
  private lastChange = new Map<string, Change>();

  constructor(private readonly git: Git) {}

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
    if (this.head !== undefined) {
      const entries = await this.log(`${this.head}..${target}`);
      const oldest = entries[entries.length - 1];
      if (oldest && oldest.firstParent === this.head) {
        const changed = this.record(entries, this.depth + entries.length);
        this.finish(target, this.depth + entries.length, entries[0]?.time ?? 0);
        return { changed, full: false };
      }
    }
    const entries = await this.log(target);
    this.reset();
    const changed = this.record(entries, entries.length);
    this.finish(target, entries.length, entries[0]?.time ?? 0);
    return { changed, full: true };
  }

  /** Records first-parent commits given newest first, the newest at depth `top`; returns the paths they touched, with their newest blobs. */
  private record(entries: readonly LogEntry[], top: number): Map<string, string | undefined> {
    const seen = new Map<string, string | undefined>();
    let depth = top;
    for (const e of entries) {
      e.paths.forEach((p, i) => {
        if (seen.has(p)) return; // a newer commit in this batch already changed it
        seen.set(p, e.blobs[i]);
        this.lastChange.set(p, { depth, commit: e.commit });
      });
      depth--;
    }
    return seen;
  }

  /** Records a commit made by this process on top of the current head (or as the root commit). */
  advanceOne(commit: string, paths: readonly string[], timeMs: number): void {
    this.depth += 1;
    for (const p of paths) this.lastChange.set(p, { depth: this.depth, commit });
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
      "--raw", "--no-abbrev", "--format=%x01%H %P%x02%ct", range, "--",
    ]);
    const entries: LogEntry[] = [];
    for (const chunk of out.split("\x01")) {
      if (chunk === "") continue;
      const lines = chunk.split("\n");
      const [ids = "", time = "0"] = (lines[0] ?? "").split("\x02");
      const [commit = "", firstParent] = ids.split(" ");
      const paths: string[] = [];
      const blobs: (string | undefined)[] = [];
      for (const line of lines.slice(1)) {
        // ":100644 100644 <old> <new> M\t<path>"
        const tab = line.indexOf("\t");
        if (!line.startsWith(":") || tab < 0) continue;
        const path = line.slice(tab + 1);
        if (!isStatePath(path)) continue;
        const blob = line.slice(0, tab).split(" ")[3] ?? "";
        paths.push(path);
        blobs.push(NO_BLOB.test(blob) ? undefined : blob);
      }
      entries.push({ commit, firstParent, time: Number(time), paths, blobs });
    }
    return entries;
  }
}
