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
}

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

  /** Moves to `target`; returns the state paths changed since the previous head (all, after a full read). */
  async moveTo(target: string | undefined): Promise<{ changed: Set<string>; full: boolean }> {
    if (target === this.head) return { changed: new Set(), full: false };
    if (target === undefined) {
      this.reset();
      return { changed: new Set(), full: true };
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

  /** Records first-parent commits given newest first, the newest at depth `top`; returns the paths they touched. */
  private record(entries: readonly LogEntry[], top: number): Set<string> {
    const seen = new Set<string>();
    let depth = top;
    for (const e of entries) {
      for (const p of e.paths) {
        if (seen.has(p)) continue; // a newer commit in this batch already changed it
        seen.add(p);
        this.lastChange.set(p, { depth, commit: e.commit });
      }
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

  /** First-parent commits of a range, newest first, with the state paths each changed against its first parent. */
  private async log(range: string): Promise<LogEntry[]> {
    const out = await this.git.raw([
      "-c", "core.quotePath=false", "log", "--first-parent", "--diff-merges=first-parent", "--no-renames",
      "--name-only", "--format=%x01%H %P%x02%ct", range, "--",
    ]);
    const entries: LogEntry[] = [];
    for (const chunk of out.split("\x01")) {
      if (chunk === "") continue;
      const lines = chunk.split("\n");
      const [ids = "", time = "0"] = (lines[0] ?? "").split("\x02");
      const [commit = "", firstParent] = ids.split(" ");
      entries.push({ commit, firstParent, time: Number(time), paths: lines.slice(1).filter((l) => l !== "" && isStatePath(l)) });
    }
    return entries;
  }
}
