import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import type { Git } from "./git.ts";
import { objectWithHeader } from "./git/gitObjects.ts";
import { LockFile, retryWhileLocked, tryUnlink } from "./git/lockFile.ts";
import { isLive, isSelf, parseOwner } from "./owner.ts";
import { readIfExists } from "./readIfExists.ts";
import { STATE_DIRS } from "./repoContent.ts";
import { OBJECT_TMP_PREFIX, WORKTREE_TMP_PREFIX, type ServerFiles } from "./serverFiles.ts";
import { findIntents, type CommitIntent, type RebaseIntent } from "./writeIntent.ts";
import type { TransactionContext } from "./writeTransaction.ts";

const ZERO_ID = "0".repeat(40);
// Temporary files of earlier versions of the server, named after their pid only.
const LEGACY_TMP = /\.tmp-(\d+)$/;
const LEGACY_OBJECT_TMP = /^tmp_obj_(\d+)_\d+$/;

/**
 * Finds and repairs what server processes that are no longer running left in the repository
 * (docs/store.md "Crash safety"): an interrupted write is rolled forward when its branch moved
 * (the index entries it had staged are put in place) and back when it did not (the working-tree
 * files it wrote get HEAD's text again); its locks, proved its own by inode, are removed; an
 * interrupted rebase of its own is aborted; its temporary files go. Nothing that cannot be proved
 * the server's own is touched: another process's lock is waited for by the next write, a file a
 * person changed since is left as it is. Returns what was done, for the log (usually nothing:
 * a readdir of an empty folder).
 *
 * Runs at start and before each write, under the store's lock (so no write of this process is in
 * progress). Idempotent: a crash during a repair is repaired by the next one.
 */
export async function repairLeftovers(ctx: TransactionContext, atStart = false): Promise<string[]> {
  const done: string[] = [];
  let crashed = atStart;
  for (const found of findIntents(ctx.files)) {
    const owner = parseOwner(found.owner);
    if (owner === undefined) continue; // not a name the server makes
    // This process's own intent can only be left by a write whose clean-up failed.
    if (!isSelf(owner) && isLive(owner)) continue;
    crashed = true;
    const intent = found.intent;
    if (intent?.kind === "commit") done.push(...(await repairCommit(ctx, intent)));
    else if (intent?.kind === "rebase") done.push(...(await repairRebase(ctx.git, ctx.files, intent)));
    tryUnlink(found.path);
  }
  done.push(...removeDeadTemporaries(ctx.files, crashed));
  return done;
}

/** The same, plus leftovers of earlier versions of the server (named by pid only): at start only. */
export async function repairAtStart(ctx: TransactionContext): Promise<string[]> {
  const done = await repairLeftovers(ctx, true);
  done.push(...removeLegacyTemporaries(ctx.files));
  return done;
}

async function repairCommit(ctx: TransactionContext, intent: CommitIntent): Promise<string[]> {
  const { git, files } = ctx;
  const done: string[] = [];
  const rel = (p: string) => relative(files.workTree, p);
  for (const { lock, stub } of intent.locks) {
    if (LockFile.isOurs(lock, stub)) {
      tryUnlink(lock);
      done.push(`removed ${rel(lock)}, left by the interrupted write`);
    }
  }
  const paths = intent.files.map((f) => f.path);
  const tip = await git.resolveRef(intent.ref);
  const committed = intent.commit !== null && tip !== undefined && (tip === intent.commit || (await git.test(["merge-base", "--is-ancestor", intent.commit, tip])));
  if (committed) {
    // Past the commit point: the branch has the commit. Index entries still at the base's blob
    // are the ones the write had staged in index.lock but not put in place.
    const commit = intent.commit as string;
    const [inIndex, atBase, atCommit] = await Promise.all([stagedEntries(git, paths), intent.base ? treeEntries(git, intent.base, paths) : new Map<string, TreeEntry>(), treeEntries(git, commit, paths)]);
    const stage: string[] = [];
    const unstage: string[] = [];
    for (const p of paths) {
      const now = inIndex.get(p)?.blob;
      const target = atCommit.get(p);
      if (now !== atBase.get(p)?.blob || now === target?.blob) continue; // up to date, or staged by someone since
      if (target) stage.push("--cacheinfo", `${target.mode},${target.blob},${p}`);
      else unstage.push(p);
    }
    if (stage.length > 0) await retryWhileLocked(() => git.raw(["update-index", "--add", ...stage]), ctx.lockWaitMs);
    if (unstage.length > 0) await retryWhileLocked(() => git.raw(["--literal-pathspecs", "update-index", "--force-remove", "--", ...unstage]), ctx.lockWaitMs);
    if (stage.length + unstage.length > 0) {
      await git.raw(["update-index", "-q", "--refresh"]).catch(() => undefined); // stat info of the entries just set
      done.push(`completed the interrupted write's commit ${commit.slice(0, 12)}: index entries of ${(stage.length / 2 + unstage.length).toString()} file(s) put in line with it`);
    }
    // Its working-tree files were written before the commit point: nothing to do there.
    return done;
  }
  // Before the commit point: put back the working-tree files it wrote (and only those still
  // exactly as it wrote them) to what HEAD has.
  const restored: string[] = [];
  const headTexts = tip ? await treeTexts(git, tip, paths) : new Map<string, string>();
  for (const f of intent.files) {
    const full = join(files.workTree, f.path);
    const bytes = readIfExists(full);
    const now = bytes === undefined ? null : objectWithHeader("blob", bytes).id;
    if (now !== f.wrote) continue;
    const text = headTexts.get(f.path);
    if (text === undefined && bytes === undefined) continue;
    if (text !== undefined && bytes !== undefined && bytes.toString("utf8") === text) continue;
    files.writeWorkTree(f.path, text);
    restored.push(f.path);
  }
  done.push(`rolled back an interrupted write${restored.length > 0 ? `: ${restored.join(", ")} restored to HEAD's text` : " (it had changed nothing yet)"}`);
  return done;
}

async function repairRebase(git: Git, files: ServerFiles, intent: RebaseIntent): Promise<string[]> {
  for (const dir of ["rebase-merge", "rebase-apply"]) {
    const state = join(files.gitDir, dir);
    if (!existsSync(state)) continue;
    const onto = readIfExists(join(state, "onto"))?.toString("utf8").trim();
    const orig = readIfExists(join(state, "orig-head"))?.toString("utf8").trim();
    // Only the rebase the server started (same base and same commits) is its own to abort.
    if (onto !== intent.onto || orig !== intent.orig) return [];
    await git.raw(["rebase", "--abort"]);
    return [`aborted the server's interrupted rebase onto ${intent.onto.slice(0, 12)}`];
  }
  return [];
}

/**
 * Temporary folders, loose-object and working-tree temporaries of server processes no longer
 * running. The object and state folders are looked through at start, and when a dead process's
 * folder or intent shows it crashed; not before every write (a state folder may hold thousands
 * of files).
 */
function removeDeadTemporaries(files: ServerFiles, crashed: boolean): string[] {
  const done: string[] = [];
  let withObjects = crashed;
  for (const name of listDir(files.tmpRoot)) {
    const owner = parseOwner(name);
    if (owner === undefined || isSelf(owner) || isLive(owner)) continue;
    rmSync(join(files.tmpRoot, name), { recursive: true, force: true });
    done.push(`removed the temporary files of server process ${owner.pid}`);
    withObjects = true;
  }
  const sweep = (dir: string, prefix: string, counter: RegExp) => {
    for (const name of listDir(dir)) {
      if (!name.startsWith(prefix)) continue;
      const owner = parseOwner(name.slice(prefix.length).replace(counter, ""));
      if (owner === undefined || isSelf(owner) || isLive(owner)) continue;
      tryUnlink(join(dir, name));
      done.push(`removed ${relative(files.workTree, join(dir, name))}`);
    }
  };
  if (withObjects) {
    for (const d of STATE_DIRS) sweep(join(files.workTree, d), WORKTREE_TMP_PREFIX, /-\d+$/);
    for (const dir of fanOutDirs(files)) sweep(dir, OBJECT_TMP_PREFIX, /_\d+$/);
  }
  return done;
}

/** objects/00 … objects/ff that exist. */
function fanOutDirs(files: ServerFiles): string[] {
  const objects = join(files.gitDir, "objects");
  return listDir(objects).filter((d) => /^[0-9a-f]{2}$/.test(d)).map((d) => join(objects, d));
}

/** `<file>.tmp-<pid>` (state files, versions.json) and `tmp_obj_<pid>_<n>` of earlier versions whose process is gone. */
function removeLegacyTemporaries(files: ServerFiles): string[] {
  const done: string[] = [];
  const dead = (pid: string) => !isLive({ pid: Number(pid), start: "0", boot: "0", token: "" });
  const sweep = (dir: string, pattern: RegExp) => {
    for (const name of listDir(dir)) {
      const m = pattern.exec(name);
      if (!m || !dead(m[1] as string)) continue;
      tryUnlink(join(dir, name));
      done.push(`removed ${relative(files.workTree, join(dir, name))}`);
    }
  };
  for (const d of STATE_DIRS) sweep(join(files.workTree, d), LEGACY_TMP);
  sweep(files.root, LEGACY_TMP);
  for (const dir of fanOutDirs(files)) sweep(dir, LEGACY_OBJECT_TMP);
  return done;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface TreeEntry {
  readonly mode: string;
  readonly blob: string;
}

/** Stage-0 index entries of these paths. */
async function stagedEntries(git: Git, paths: readonly string[]): Promise<Map<string, TreeEntry>> {
  const out = await git.raw(["--literal-pathspecs", "ls-files", "-s", "-z", "--", ...paths]);
  const entries = new Map<string, TreeEntry>();
  for (const rec of out.split("\0")) {
    const tab = rec.indexOf("\t");
    if (tab < 0) continue;
    const [mode = "", blob = "", stage = ""] = rec.slice(0, tab).split(" ");
    if (stage === "0") entries.set(rec.slice(tab + 1), { mode, blob });
  }
  return entries;
}

async function treeEntries(git: Git, commit: string, paths: readonly string[]): Promise<Map<string, TreeEntry>> {
  const out = await git.raw(["ls-tree", "-z", "--full-tree", commit, "--", ...paths]);
  const entries = new Map<string, TreeEntry>();
  for (const rec of out.split("\0")) {
    const tab = rec.indexOf("\t");
    if (tab < 0) continue;
    const [mode = "", , blob = ""] = rec.slice(0, tab).split(" ");
    if (blob !== ZERO_ID) entries.set(rec.slice(tab + 1), { mode, blob });
  }
  return entries;
}

async function treeTexts(git: Git, commit: string, paths: readonly string[]): Promise<Map<string, string>> {
  const entries = await treeEntries(git, commit, paths);
  const blobs = await git.catFileBatch([...entries.values()].map((e) => e.blob));
  const texts = new Map<string, string>();
  [...entries.keys()].forEach((p, i) => {
    const b = blobs[i];
    if (b !== undefined) texts.set(p, b.toString("utf8"));
  });
  return texts;
}
