import { appendFileSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { deflateSync } from "node:zlib";
import type { Person } from "../domain/identity.ts";
import type { Git } from "./git.ts";
import { indexStat, patchIndex, type IndexChange } from "./gitIndex.ts";
import { decodeTree, encodeCommit, encodeTree, formatIdentity, objectWithHeader, patchTree, TREE_MODE, type Identity, type ObjectType, type TreeEntry } from "./gitObjects.ts";
import { looseObjectPath } from "./looseObjects.ts";
import { readIfExists } from "./readIfExists.ts";
import { STATE_DIRS } from "./repoContent.ts";

export interface FileWrite {
  readonly path: string;
  /** New content, or undefined to delete the file. */
  readonly text: string | undefined;
}

export type DirectResult =
  | { readonly kind: "committed"; readonly commit: string }
  /** Nothing was changed; git must make this commit (the reason says why). */
  | { readonly kind: "declined"; readonly reason: string }
  /** The branch is no longer at the expected parent (someone else committed): nothing was changed. */
  | { readonly kind: "moved" };

interface Trees {
  readonly commit: string;
  readonly root: readonly TreeEntry[];
  /** Entries of configs/ and agent_groups/ (empty when the folder is absent). */
  readonly dirs: ReadonlyMap<string, readonly TreeEntry[]>;
}

// Hooks `git commit --no-verify` still runs: with any of them present, git makes the commit.
const HOOKS = ["prepare-commit-msg", "post-commit", "post-index-change", "reference-transaction"];
// Regular files only: anything else in a state folder (a symlink, an executable) goes through git.
const FILE_MODE = "100644";

/**
 * Makes a User API commit without a git process, as `git commit -- <paths>` would: blob, tree and
 * commit objects written loose, the branch moved under git's `<ref>.lock` (compare-and-swap
 * against the expected parent), reflogs appended, and the index entries of the written files
 * updated under `index.lock`. On this machine a `git commit` costs 40-50 ms per write on a
 * 1,000-file repository (a spawn plus a stat of every index entry); this costs a few ms. Its file
 * operations are synchronous on purpose: some thirty small local reads, writes and renames cost
 * well under a millisecond that way, against ~0.2 ms each as thread-pool round trips here.
 *
 * Like git's defaults (core.fsync), loose objects, refs and the index are not fsynced.
 *
 * Anything it does not model is declined before the first change, and the caller commits with
 * git: attributes (filters, eol conversion), autocrlf, commit hooks, SHA-256 repositories, shared
 * (group) repositories, a detached HEAD, a `.git` file (worktrees, submodules), index formats
 * other than 2 and 3.
 */
export class DirectCommitter {
  private trees: Trees | undefined;
  private tmpCounter = 0;
  /** Folders known to exist (object fan-out, reflog folders): a mkdir per object adds up. */
  private readonly made = new Set<string>();

  private constructor(
    private readonly git: Git,
    private readonly gitDir: string,
    private readonly hooksDir: string,
    private readonly reflogs: boolean,
  ) {}

  /** A committer for the repository at `git.dir`, or the reason its settings need git itself. */
  static async prepare(git: Git): Promise<DirectCommitter | string> {
    const gitDir = join(git.dir, ".git");
    if (!statSync(gitDir, { throwIfNoEntry: false })?.isDirectory()) return ".git is not a directory (a worktree or submodule)";
    const config = parseConfigList(await git.raw(["config", "--list", "-z"]).catch(() => ""));
    const format = config.get("extensions.objectformat");
    if (format !== undefined && format !== "sha1") return `object format ${format}`;
    if (config.get("core.bare") === "true") return "a bare repository";
    const autocrlf = config.get("core.autocrlf");
    if (autocrlf !== undefined && autocrlf !== "false") return `core.autocrlf=${autocrlf}`;
    if (config.has("core.attributesfile")) return "core.attributesFile is set";
    if (config.has("core.hookspath")) return "core.hooksPath is set";
    // Shared repositories need git's group permissions on every file it creates.
    const shared = config.get("core.sharedrepository");
    if (shared !== undefined && shared !== "false" && shared !== "umask") return `core.sharedRepository=${shared}`;
    const logAll = config.get("core.logallrefupdates");
    return new DirectCommitter(git, gitDir, join(gitDir, "hooks"), logAll !== "false");
  }

  /**
   * Commits `files` on top of `parent` (which must be HEAD's branch tip; undefined in an empty
   * repository) with `writeFiles` writing them to the working tree once the locks are held.
   * Throws when a step fails after that; the caller then puts the files back (no ref or index
   * was changed).
   */
  async commit(parent: string | undefined, files: readonly FileWrite[], message: string, who: { readonly author: Person; readonly committer: Person }, writeFiles: () => void): Promise<DirectResult> {
    const declined = (reason: string): DirectResult => ({ kind: "declined", reason });
    // A root commit has no trees to patch and no index to keep: rare enough to leave to git.
    if (parent === undefined) return declined("the repository's first commit");
    const head = (readIfExists(join(this.gitDir, "HEAD"))?.toString("utf8") ?? "").trim();
    if (!head.startsWith("ref: refs/heads/")) return declined("HEAD is not on a branch");
    const ref = head.slice(5);
    if (existsSync(join(this.gitDir, "info", "attributes"))) return declined(".git/info/attributes exists");
    const hook = HOOKS.find((h) => existsSync(join(this.hooksDir, h)));
    if (hook) return declined(`the ${hook} hook exists`);

    const trees = await this.treesOf(parent);
    if (typeof trees === "string") return declined(trees);
    const changes = groupByDir(files);
    if (typeof changes === "string") return declined(changes);

    const blobIds = new Map<string, Buffer>();
    const rootChanges = new Map<string, { mode: string; id: Buffer } | undefined>();
    const dirs = new Map(trees.dirs);
    for (const [dir, named] of changes) {
      const entries = dirs.get(dir) ?? [];
      const dirChanges = new Map<string, { mode: string; id: Buffer } | undefined>();
      for (const [name, text] of named) {
        const existing = entries.find((e) => e.name.toString("utf8") === name);
        if (existing && existing.mode !== FILE_MODE) return declined(`${dir}/${name} has mode ${existing.mode}`);
        if (text === undefined) {
          dirChanges.set(name, undefined);
          continue;
        }
        const id = Buffer.from(this.writeObject("blob", Buffer.from(text, "utf8")), "hex");
        blobIds.set(`${dir}/${name}`, id);
        dirChanges.set(name, { mode: FILE_MODE, id });
      }
      const patched = patchTree(entries, dirChanges);
      dirs.set(dir, patched);
      rootChanges.set(dir, patched.length === 0 ? undefined : { mode: TREE_MODE, id: Buffer.from(this.writeObject("tree", encodeTree(patched)), "hex") });
    }
    const root = patchTree(trees.root, rootChanges);
    const rootId = this.writeObject("tree", encodeTree(root));
    const when = { seconds: Math.floor(Date.now() / 1000), offsetMinutes: -new Date().getTimezoneOffset() };
    const author: Identity = { name: who.author.name, email: who.author.email, ...when };
    const committer: Identity = { name: who.committer.name, email: who.committer.email, ...when };
    const commit = this.writeObject("commit", encodeCommit(rootId, [parent], author, committer, message));

    // git's order: the index lock first, then the ref's; a held lock means a git command is running.
    const indexPath = join(this.gitDir, "index");
    const refPath = join(this.gitDir, ref);
    const indexLock = await LockFile.take(indexPath, 0);
    let refLock: LockFile | undefined;
    let committed = false;
    try {
      // git waits up to 100 ms for a ref lock (core.filesRefLockTimeout): `git gc` packing refs holds it briefly.
      refLock = await LockFile.take(refPath, 100);
      if (this.git.refTip(ref) !== parent) return { kind: "moved" };
      const index = readIfExists(indexPath);
      const touched = new Map<string, IndexChange | undefined>(files.map((f) => [f.path, undefined]));
      if (index === undefined || patchIndex(index, touched) === undefined) return declined("the index is in a format this writer does not edit");

      writeFiles();
      for (const f of files) {
        const id = blobIds.get(f.path);
        if (id) touched.set(f.path, { id, stat: indexStat(lstatSync(join(this.git.dir, f.path), { bigint: true })) });
      }
      const patched = patchIndex(index, touched);
      if (!patched) throw new Error("the index changed format while locked");
      indexLock.write(patched);
      refLock.write(Buffer.from(`${commit}\n`));
      // As git does, the reflog entry is written while the ref is still locked.
      this.appendReflogs(ref, parent, commit, committer, message);
      // The commit point: from here on the branch has the new commit.
      refLock.commit();
      committed = true;
    } finally {
      // Declined, moved or failed: the ref and the index stay as they were.
      if (!committed) {
        refLock?.release();
        indexLock.release();
      }
    }
    try {
      indexLock.commit();
    } catch {
      // The commit stands; bring the index entries back in line with it the slow way.
      indexLock.release();
      await this.git.raw(["reset", "-q", "--", ...files.map((f) => f.path)]).catch(() => undefined);
    }
    this.trees = { commit, root, dirs };
    return { kind: "committed", commit };
  }

  /** The tree listings of `commit`, from the last commit made here or read with one git process. */
  private async treesOf(commit: string): Promise<Trees | string> {
    if (this.trees?.commit === commit) return this.trees;
    const [root, ...subs] = await this.git.readObjects([`${commit}^{tree}`, ...STATE_DIRS.map((d) => `${commit}:${d}`)]);
    if (root?.type !== "tree") return `cannot read the tree of ${commit}`;
    const dirs = new Map<string, TreeEntry[]>();
    for (const [i, dir] of STATE_DIRS.entries()) {
      const sub = subs[i];
      if (sub && sub.type !== "tree") return `${dir} is not a folder in ${commit}`;
      dirs.set(dir, sub ? decodeTree(sub.body) : []);
    }
    const rootEntries = decodeTree(root.body);
    for (const entries of [rootEntries, ...dirs.values()]) {
      if (entries.some((e) => e.name.toString("utf8") === ".gitattributes")) return "a .gitattributes file exists";
    }
    this.trees = { commit, root: rootEntries, dirs };
    return this.trees;
  }

  private writeObject(type: ObjectType, body: Buffer): string {
    const { id, bytes } = objectWithHeader(type, body);
    const file = looseObjectPath(this.gitDir, id);
    const dir = dirname(file);
    if (existsSync(file)) return id;
    this.ensureDir(dir);
    const tmp = join(dir, `tmp_obj_${process.pid}_${this.tmpCounter++}`);
    // Level 1 is git's default for loose objects (core.looseCompression).
    writeFileSync(tmp, deflateSync(bytes, { level: 1 }), { mode: 0o444 });
    renameSync(tmp, file);
    return id;
  }

  private appendReflogs(ref: string, from: string, to: string, who: Identity, message: string): void {
    if (!this.reflogs) return;
    const subject = message.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
    const line = `${from} ${to} ${formatIdentity(who)}\tcommit: ${subject}\n`;
    for (const log of [join(this.gitDir, "logs", ref), join(this.gitDir, "logs", "HEAD")]) {
      this.ensureDir(dirname(log));
      appendFileSync(log, line);
    }
  }

  private ensureDir(dir: string): void {
    if (this.made.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.made.add(dir);
  }
}

/** `git config --list -z` records ("key\nvalue\0"), last value wins as in git. */
function parseConfigList(out: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const rec of out.split("\0")) {
    if (rec === "") continue;
    const nl = rec.indexOf("\n");
    config.set((nl < 0 ? rec : rec.slice(0, nl)).toLowerCase(), nl < 0 ? "true" : rec.slice(nl + 1));
  }
  return config;
}

/** Files by state folder and name; a reason when a path is not directly inside one. */
function groupByDir(files: readonly FileWrite[]): Map<string, Map<string, string | undefined>> | string {
  const byDir = new Map<string, Map<string, string | undefined>>();
  for (const f of files) {
    const slash = f.path.indexOf("/");
    const dir = f.path.slice(0, slash);
    const name = f.path.slice(slash + 1);
    if (slash < 0 || !STATE_DIRS.includes(dir) || name.includes("/")) return `${f.path} is not directly in a state folder`;
    if (!byDir.has(dir)) byDir.set(dir, new Map());
    byDir.get(dir)?.set(name, f.text);
  }
  return byDir;
}

/**
 * git's lock protocol: whoever creates `<file>.lock` exclusively may replace the file, by renaming
 * the lock over it; removing the lock instead abandons the change.
 */
class LockFile {
  private held = true;

  private constructor(
    private readonly path: string,
    private fd: number | undefined,
  ) {}

  /** Takes the lock, retrying for up to `waitMs` while another process holds it. */
  static async take(path: string, waitMs: number): Promise<LockFile> {
    const deadline = performance.now() + waitMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
      try {
        return new LockFile(path, openSync(`${path}.lock`, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        if (performance.now() >= deadline) throw new Error(`${path}.lock exists: another git process is running in the repository (or one crashed: remove the file)`);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  write(data: Buffer): void {
    const fd = this.fd as number;
    this.fd = undefined; // a closed descriptor's number may be reused: never close it twice
    try {
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
    } finally {
      closeSync(fd);
    }
  }

  commit(): void {
    renameSync(`${this.path}.lock`, this.path);
    this.held = false;
  }

  release(): void {
    if (!this.held) return;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.held = false;
    tryUnlink(`${this.path}.lock`);
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

