import type { Git } from "./git.ts";
import { ownerName, SELF } from "./owner.ts";
import { redactSecrets, shownError } from "./redact.ts";
import { openClone, trackingRefOf, trackingTip, type RemoteOptions } from "./remoteClone.ts";
import type { ServerFiles } from "./serverFiles.ts";
import { removeIntent, writeIntent } from "./writeIntent.ts";

export interface SyncReport {
  /** When the attempt ended, unix ms. */
  readonly at: number;
  readonly ok: boolean;
  /** What happened, for people: "up to date", "fast-forwarded to abc", "pushed abc", ... */
  readonly action: string;
  readonly error?: string;
  /** Uncommitted edits in the working tree that kept the sync from moving it (the remote changed those files). */
  readonly blocked?: readonly string[];
}

export type PushResult = { readonly ok: true } | { readonly ok: false; readonly rejected: boolean; readonly error: string };

/**
 * The remote half of the store: clone, fetch, fast-forward, push. It only moves refs and the
 * working tree; the caller holds the store's lock and reloads the snapshot afterwards.
 */
export class RemoteSync {
  private readonly trackingRef: string;
  /** The remote tip last integrated, to tell a rewritten remote from local commits not yet pushed. */
  private lastRemote: string | undefined;
  lastFetchError: string | undefined;
  lastPushError: string | undefined;
  /** Set while the remote's history is refused as a rewrite. */
  refusedRewrite: string | undefined;
  /** The server's folder, for the intent around its own rebase (a crash in it is then aborted on restart). */
  files: ServerFiles | undefined;

  constructor(
    readonly git: Git,
    readonly options: RemoteOptions,
  ) {
    this.trackingRef = trackingRefOf(options.branch);
  }

  /** Makes `dir` a clone of the remote (remoteClone.ts) and follows it from its current tip. */
  static async prepare(dir: string, options: RemoteOptions): Promise<RemoteSync> {
    const sync = new RemoteSync(await openClone(dir, options), options);
    sync.lastRemote = await sync.remoteTip();
    return sync;
  }

  private remoteTip(): Promise<string | undefined> {
    return trackingTip(this.git, this.trackingRef);
  }

  private isAncestor(a: string, b: string): Promise<boolean> {
    return this.git.test(["merge-base", "--is-ancestor", a, b]);
  }

  /** Fetches the followed branch; returns its tip (undefined for an empty remote). Throws when unreachable. */
  async fetch(): Promise<string | undefined> {
    try {
      await this.git.network(["fetch", "-q", "--no-tags", "origin", `+refs/heads/${this.options.branch}:${this.trackingRef}`]);
      this.lastFetchError = undefined;
    } catch (e) {
      const text = shownError(e);
      // An empty remote has no branch yet: that is not an error, there is just nothing to follow.
      if (/couldn't find remote ref/i.test(text)) {
        this.lastFetchError = undefined;
        return undefined;
      }
      this.lastFetchError = text;
      throw new Error(`fetch from ${redactSecrets(this.options.url)} failed: ${text}`);
    }
    return this.remoteTip();
  }

  /**
   * Fetches and fast-forwards to the remote when it only moved ahead of HEAD; anything else (local
   * commits not pushed, a rewrite) is left to sync(). Best effort: false when it could not (the
   * write then goes on from where it is, and a push tells).
   */
  async catchUp(): Promise<boolean> {
    try {
      const tip = await this.fetch();
      const head = await this.git.headFast();
      if (tip !== undefined && tip !== head && (head === undefined || (await this.isAncestor(head, tip)))) await this.moveTo(tip, false);
      return true;
    } catch {
      return false;
    }
  }

  /** Pushes HEAD to the followed branch (never forced). */
  async push(): Promise<PushResult> {
    try {
      await this.git.network(["push", "-q", "--porcelain", "origin", `HEAD:refs/heads/${this.options.branch}`]);
      this.lastPushError = undefined;
      const head = await this.git.headFast();
      // git updates the tracking ref itself when the fetch refspec covers the branch (the usual
      // case: no process needed here); otherwise it is moved explicitly.
      if (head && this.git.refTip(this.trackingRef) !== head) await this.git.raw(["update-ref", this.trackingRef, head]);
      this.lastRemote = head;
      return { ok: true };
    } catch (e) {
      const text = shownError(e);
      this.lastPushError = text;
      // Rejected: someone else pushed first. A ref lock held on the remote (another push landing
      // at the same moment) is the same race, reported by receive-pack instead.
      return { ok: false, rejected: /rejected|non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref/i.test(text), error: text };
    }
  }

  /**
   * One sync: fetch, then follow the remote when it is a fast-forward of HEAD, push local commits
   * it lacks, and refuse a rewritten remote unless allowed. Never throws; reports what happened.
   */
  async sync(): Promise<SyncReport> {
    const report = (ok: boolean, action: string, error?: string): SyncReport => ({ at: Date.now(), ok, action, ...(error ? { error } : {}) });
    let remote: string | undefined;
    try {
      remote = await this.fetch();
    } catch (e) {
      return report(false, "fetch failed", shownError(e));
    }
    const head = await this.git.head();
    if (remote === undefined) {
      if (head === undefined) return report(true, "remote and local are empty");
      const pushed = await this.push();
      return pushed.ok ? report(true, `pushed ${short(head)} to the empty remote`) : report(false, "push failed", pushed.error);
    }
    if (remote === head) {
      this.lastRemote = remote;
      this.refusedRewrite = undefined;
      return report(true, "up to date");
    }
    const followsHead = head === undefined || (await this.isAncestor(head, remote));
    const rewritten =
      this.lastRemote !== undefined
        ? !(await this.isAncestor(this.lastRemote, remote))
        : // Nothing seen from the remote yet: only a fast-forward in either direction is trusted.
          !followsHead && head !== undefined && !(await this.isAncestor(remote, head));
    if (rewritten) {
      if (!this.options.allowHistoryRewrite) {
        this.refusedRewrite = `the remote branch ${this.options.branch} was rewritten: ${short(remote)} is not a fast-forward of ${short(this.lastRemote ?? head ?? "")}; start with --allow-history-rewrite to follow it`;
        return report(false, "refused rewritten remote history", this.refusedRewrite);
      }
      await this.moveTo(remote, true);
      this.refusedRewrite = undefined;
      return report(true, `followed rewritten history to ${short(remote)}`);
    }
    this.refusedRewrite = undefined;
    if (followsHead) {
      try {
        await this.moveTo(remote, false);
      } catch (e) {
        // `reset --keep` refuses to clobber a person's uncommitted edit of a file the remote
        // changed: nothing moved, the served commit stays, and the next sync tries again.
        const blocked = await editsInTheWay(this.git, head, remote);
        if (blocked.length === 0) throw e;
        return { ...report(false, "blocked by uncommitted edits", `cannot follow the remote to ${short(remote)}: uncommitted edits of ${blocked.join(", ")} in the served working tree are in the way (commit, stash or discard them)`), blocked };
      }
      return report(true, `fast-forwarded to ${short(remote)}`);
    }
    if (head !== undefined && (await this.isAncestor(remote, head))) {
      const pushed = await this.push();
      return pushed.ok ? report(true, `pushed ${short(head)}`) : report(false, "push failed", pushed.error);
    }
    // Local commits the remote lacks on top of a remote that moved on: replay them, then push.
    if (this.files && head !== undefined) writeIntent(this.files, { kind: "rebase", format: 1, owner: ownerName(SELF), onto: remote, orig: head });
    try {
      await this.git.raw(["-c", "user.name=configserver", "-c", "user.email=configserver@localhost", "rebase", "-q", remote]);
    } catch (e) {
      await this.git.raw(["rebase", "--abort"]).catch(() => undefined);
      return report(false, "rebase failed", `local commits conflict with the remote: ${shownError(e)}`);
    } finally {
      if (this.files) removeIntent(this.files);
    }
    const pushed = await this.push();
    return pushed.ok ? report(true, `rebased and pushed`) : report(false, "push failed", pushed.error);
  }

  /** Moves the branch and working tree to `target`; `--keep` refuses to clobber uncommitted edits. */
  async moveTo(target: string, rewrite: boolean): Promise<void> {
    const head = await this.git.head();
    if (head === undefined) await this.git.raw(["reset", "-q", "--hard", target]);
    else await this.git.raw(["reset", "-q", rewrite ? "--hard" : "--keep", target]);
    this.lastRemote = target;
  }
}

export const short = (hash: string) => hash.slice(0, 12);

/** Paths with uncommitted changes (tracked or not) that moving from `head` to `target` would overwrite. */
async function editsInTheWay(git: Git, head: string | undefined, target: string): Promise<string[]> {
  const status = await git.raw(["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"]).catch(() => "");
  const edited = new Set(status.split("\0").filter((e) => e.length > 3).map((e) => e.slice(3)));
  const changed = head === undefined ? [] : (await git.raw(["diff", "--name-only", "-z", "--no-renames", head, target]).catch(() => "")).split("\0");
  return changed.filter((p) => p !== "" && edited.has(p)).sort();
}
