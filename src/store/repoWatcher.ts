import { existsSync, watch as fsWatch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { watch, type FSWatcher as ChokidarWatcher } from "chokidar";
import type { Git } from "./git.ts";
import { STATE_DIRS } from "./repoContent.ts";


export interface WatcherCallbacks {
  /** A ref or HEAD moved: someone committed, pulled, reset or a sidecar synced. */
  onRefsChanged(): void;
  /** The state files' uncommitted changes, after any edit in the working tree. */
  onDirty(paths: string[]): void;
  /** Runs work while no write is in progress (the store's lock). */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** Whether a state file on disk equals the served commit's (the server's own writes do). */
  isCommitted(path: string): Promise<boolean>;
}

/**
 * Watches the repository for commits made by others (refs under .git) and for uncommitted edits
 * of state files (reported, never served). Events are debounced: one git operation touches many
 * files.
 */
export class RepoWatcher {
  private watcher: ChokidarWatcher | undefined;
  private refTimer: NodeJS.Timeout | undefined;
  private dirtyTimer: NodeJS.Timeout | undefined;
  /** Working-tree paths touched since the last dirty check. */
  private touched = new Set<string>();
  private lastDirty: string[] = [];
  private readonly folderWatchers = new Map<string, FSWatcher>();
  private rootWatcher: FSWatcher | undefined;
  private forceStatus = false;

  constructor(
    private readonly dir: string,
    private readonly git: Git,
    private readonly callbacks: WatcherCallbacks,
    private readonly debounceMs = 50,
  ) {}

  async start(): Promise<void> {
    // Refs: chokidar on HEAD, refs/heads and packed-refs only. Watching all of .git turned every
    // commit (index, objects, logs) into a burst of events.
    const refs = [".git/HEAD", ".git/refs/heads", ".git/packed-refs"].map((p) => join(this.dir, p));
    this.watcher = watch(refs.filter((p) => existsSync(p)), { ignoreInitial: true, depth: 8 });
    this.watcher.on("all", () => this.schedule("ref"));
    // State folders: one fs.watch per folder. chokidar keeps a watcher per file, and with 1,000
    // configs that cost ~40 ms of CPU per write (measured); state files are never nested. The
    // repository root is watched too, for folders that appear or are replaced later.
    for (const d of STATE_DIRS) this.attach(d);
    const root = fsWatch(this.dir, (_event, name) => {
      const d = name?.toString();
      if (d === undefined || !STATE_DIRS.includes(d)) return;
      this.attach(d);
      // Files may have been written before the folder was watched: ask git.
      this.forceStatus = true;
      this.schedule("dirty");
    });
    root.on("error", () => undefined);
    this.rootWatcher = root;
    this.watcher.on("error", () => undefined);
    await new Promise<void>((resolve) => this.watcher?.once("ready", () => resolve()));
    await this.checkDirty();
  }

  /** (Re)watches one state folder, if it exists. */
  private attach(d: string): void {
    this.folderWatchers.get(d)?.close();
    this.folderWatchers.delete(d);
    const path = join(this.dir, d);
    if (!existsSync(path)) return;
    try {
      const w = fsWatch(path, (_event, name) => {
        if (name) this.touched.add(`${d}/${name.toString()}`);
        this.schedule("dirty");
      });
      w.on("error", () => undefined);
      this.folderWatchers.set(d, w);
    } catch {
      // Gone between the check and the watch: the root watcher reports it when it comes back.
    }
  }

  private schedule(kind: "ref" | "dirty"): void {
    if (kind === "ref") {
      clearTimeout(this.refTimer);
      this.refTimer = setTimeout(() => this.callbacks.onRefsChanged(), this.debounceMs);
    } else {
      clearTimeout(this.dirtyTimer);
      this.dirtyTimer = setTimeout(() => void this.onTouched(), this.debounceMs * 4);
    }
  }

  /**
   * Most working-tree events are the server's own writes: when nothing was dirty and every touched
   * file equals its committed text, nothing can have become dirty and `git status` is skipped.
   */
  private async onTouched(): Promise<void> {
    const touched = [...this.touched].filter((p) => !/\.tmp-\d+$/.test(p));
    this.touched.clear();
    if (this.lastDirty.length === 0 && !this.forceStatus) {
      const committed = await Promise.all(touched.map((p) => this.callbacks.isCommitted(p)));
      if (committed.every(Boolean)) return;
    }
    await this.checkDirty();
  }

  /** Uncommitted changes to state files, as `git status` sees them. */
  async checkDirty(): Promise<string[]> {
    // --no-optional-locks: a status must never hold index.lock while the writer commits. Run
    // between writes, it also never sees the server's own half-done write as a person's edit.
    const out = await this.callbacks
      .exclusive(() => this.git.raw(["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ...STATE_DIRS]))
      .catch(() => "");
    const paths = out.split("\0").filter((e) => e.length > 3).map((e) => e.slice(3)).filter((p) => !/\.tmp-\d+$/.test(p));
    this.lastDirty = paths;
    this.forceStatus = false;
    this.callbacks.onDirty(paths);
    return paths;
  }

  async close(): Promise<void> {
    clearTimeout(this.refTimer);
    clearTimeout(this.dirtyTimer);
    this.rootWatcher?.close();
    for (const w of this.folderWatchers.values()) w.close();
    await this.watcher?.close();
  }
}
