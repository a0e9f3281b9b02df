import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommitBackend, CommitOutcome, CommitRequest } from "./commitBackend.ts";
import type { Git } from "../git.ts";
import { cleanMessage } from "./gitObjects.ts";
import { retryWhileLocked, tryUnlink } from "./lockFile.ts";
import { readIfExists } from "../readIfExists.ts";
import { WriteTransaction, type TransactionContext } from "../writeTransaction.ts";

const ZERO_ID = "0".repeat(40);

/**
 * Commits with git's own commands, for repositories the in-process writer declines (attributes
 * and filters, hooks, other object formats…): the files are hashed by `git update-index` (so
 * clean filters and eol rules apply, as with `git add`) into a temporary index holding the base's
 * tree, `git write-tree` and `git commit-tree` make the commit, and `git update-ref <ref> <new>
 * <base>` moves the branch only if it is still at the planned base (git's compare-and-swap; it
 * writes the reflogs by git's rules). No hook runs: every git command of the server turns the
 * repository's hooks off (SAFE_GIT_CONFIG in git.ts), so a commit is exactly what was asked.
 *
 * The real index is updated the way `git commit -- <paths>` leaves it: the written paths staged
 * as committed, anything else a person staged kept. It is written under index.lock, held by the
 * WriteTransaction from before the check of the base to after the ref moved.
 */
export class GitCommitter implements CommitBackend {
  readonly mode = "git";

  constructor(private readonly ctx: TransactionContext) {}

  private get git(): Git {
    return this.ctx.git;
  }

  async commit(request: CommitRequest): Promise<CommitOutcome> {
    const { base, files, author, committer } = request;
    const ref = await this.headRef();
    const tx = await WriteTransaction.begin(this.ctx, { ref, base, files, before: request.before, locksRef: false });
    if (tx === "moved") return { kind: "moved" };
    const paths = files.map((f) => f.path);
    const temporary: string[] = [];
    const tmp = (label: string) => {
      const path = this.ctx.files.tmpPath(label);
      temporary.push(path, `${path}.lock`);
      return path;
    };
    try {
      tx.writeFiles();
      const treeIndex = { GIT_INDEX_FILE: tmp("tree-index") };
      await this.git.raw(base ? ["read-tree", base] : ["read-tree", "--empty"], { env: treeIndex });
      await this.git.raw(["update-index", "--add", "--remove", "--", ...paths], { env: treeIndex });
      const tree = (await this.git.raw(["write-tree"], { env: treeIndex })).trim();
      // `git commit -m` cleans the message (default cleanup "whitespace" when not edited).
      const message = cleanMessage(request.message);
      const messageFile = tmp("message");
      writeFileSync(messageFile, message);
      const identity = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: committer.name, GIT_COMMITTER_EMAIL: committer.email };
      const commit = (await this.git.raw(["commit-tree", "--no-gpg-sign", tree, ...(base ? ["-p", base] : []), "-F", messageFile], { env: identity })).trim();
      tx.recordCommit(commit);

      // The real index as it is (a person's staged changes stay staged), with the written paths updated.
      const current = tx.readIndex();
      const realIndex = { GIT_INDEX_FILE: tmp("index") };
      if (current.bytes) {
        writeFileSync(realIndex.GIT_INDEX_FILE, current.bytes);
        // The copy keeps the index's mtime: git's racy-entry check measures entries against it.
        const mtime = Number(current.mtimeNs / 1_000_000n) / 1000;
        utimesSync(realIndex.GIT_INDEX_FILE, mtime, mtime);
      }
      await this.git.raw(["update-index", "--add", "--remove", "--", ...paths], { env: realIndex });
      tx.stageIndex(readFileSync(realIndex.GIT_INDEX_FILE));

      const subject = message.split("\n")[0] ?? "";
      if (!(await this.updateRef(ref, commit, base, `commit${base ? "" : " (initial)"}: ${subject}`))) {
        tx.abort();
        return { kind: "moved" };
      }
      tx.refMoved();
      await tx.commitIndex();
      tx.finish();
      return { kind: "committed", commit };
    } catch (e) {
      tx.abort();
      throw e;
    } finally {
      for (const path of temporary) tryUnlink(path);
    }
  }

  /** The ref a commit moves: HEAD's branch, or HEAD itself when detached. */
  private async headRef(): Promise<string> {
    const head = readIfExists(join(this.ctx.files.gitDir, "HEAD"))?.toString("utf8").trim() ?? "";
    if (head.startsWith("ref: ")) return head.slice(5);
    const symbolic = (await this.git.raw(["symbolic-ref", "-q", "HEAD"]).catch(() => "")).trim();
    return symbolic || "HEAD";
  }

  /**
   * `git update-ref <ref> <commit> <base>`: true when the ref moved, false when it was no longer
   * at `base`. A ref lock held by another process is waited for (git itself waits 100 ms).
   */
  private async updateRef(ref: string, commit: string, base: string | undefined, reflog: string): Promise<boolean> {
    const atBase = async () => (await this.git.resolveRef(ref)) === base;
    try {
      await retryWhileLocked(() => this.git.raw(["update-ref", "-m", reflog, ...(ref === "HEAD" ? ["--no-deref"] : []), ref, commit, base ?? ZERO_ID]), this.ctx.lockWaitMs, atBase);
      return true;
    } catch (e) {
      const tip = await this.git.resolveRef(ref);
      if (tip === commit) return true; // moved, though something after the update complained
      if (tip !== base) return false;
      throw e;
    }
  }
}
