import type { Author } from "./git/commitBackend.ts";
import type { Git } from "./git.ts";
import { retryWhileLocked } from "./git/lockFile.ts";

/** The reflog subject of `git reset` / `git reset --hard` with no target ("discard my changes"). */
const RESET_TO_HEAD = "reset: moving to HEAD";
/** Moves a person makes on top of what they see, without meaning to drop anything below it. */
const WORK_ON_TOP = /^commit( \([a-z -]+\))?: /;
/** How far back the HEAD reflog is read for the move away from the server's commit. */
const REFLOG_DEPTH = 200;
/** Attempts when HEAD keeps moving under the restore. */
const MAX_ATTEMPTS = 5;

/** What a reset racing a write did, and what was done about it. */
export interface RewoundRestore {
  /** The server's commit that was rewound. */
  readonly commit: string;
  /** Where the reset left HEAD. */
  readonly rewoundTo: string;
  /** The commits a person made on top of the rewound HEAD before the server noticed. */
  readonly madeOnTop: number;
  /** The commit HEAD was moved to: the server's commit itself, or a merge of it with the person's. */
  readonly restored?: string;
  readonly error?: unknown;
}

/**
 * `git reset --hard` (no target) resolves HEAD when it starts and sets HEAD to that commit when it
 * ends, expecting whatever HEAD is then (git's builtin/reset.c): a commit the server made in
 * between is rewound, an acknowledged write undone by a command that never meant to move the
 * branch. Recognised exactly, from HEAD's reflog: the move away from `own` (the server's last
 * commit) is "reset: moving to HEAD" to an ancestor of it, and every later move is a commit (or
 * another reset to HEAD) made on top of that. Then the server's commit is brought back:
 * - nothing on top: HEAD moves forward to it (`git merge --ff-only`);
 * - a person's commits on top: a merge of HEAD and the server's commit (built with
 *   `git merge-tree`, refused on any conflict) becomes HEAD, again by `git merge --ff-only`, so
 *   that git itself refuses to overwrite anyone's uncommitted changes.
 * Any other move (a reset to another target, a checkout, a pull, an amend) is left as it is.
 * Returns undefined when HEAD's move was not this race.
 */
export async function restoreRewound(git: Git, own: string, author: Author, lockWaitMs: number): Promise<RewoundRestore | undefined> {
  for (let attempt = 1; ; attempt++) {
    const head = await git.headFast();
    if (head === undefined || head === own) return undefined;
    const race = await rewoundBy(git, own, head);
    if (race === undefined) return undefined;
    const found = { commit: own, rewoundTo: race.rewoundTo, madeOnTop: race.madeOnTop };
    try {
      const target = race.madeOnTop === 0 ? own : await mergeCommit(git, head, own, author, race.madeOnTop);
      // Only while HEAD is still where the target was made for.
      await retryWhileLocked(() => git.raw(["merge", "--ff-only", "--quiet", target]), lockWaitMs, async () => (await git.headFast()) === head);
      return { ...found, restored: target };
    } catch (error) {
      // A person committed again meanwhile: the race is looked at again from the new HEAD.
      if (attempt < MAX_ATTEMPTS && (await git.headFast()) !== head) continue;
      return { ...found, error };
    }
  }
}

async function rewoundBy(git: Git, own: string, head: string): Promise<{ rewoundTo: string; madeOnTop: number } | undefined> {
  const log = await git.raw(["log", "-g", `-n${REFLOG_DEPTH}`, "--format=%H %gs", "HEAD"]).catch(() => "");
  const entries = log.split("\n").filter((l) => l !== "").map((l) => ({ commit: l.slice(0, l.indexOf(" ")), subject: l.slice(l.indexOf(" ") + 1) }));
  // The newest entry that set HEAD to the server's commit; the one after it moved HEAD away.
  const set = entries.findIndex((e) => e.commit === own);
  if (set < 1 || entries[0]?.commit !== head) return undefined;
  const away = entries[set - 1] as { commit: string; subject: string };
  if (away.subject !== RESET_TO_HEAD) return undefined;
  const later = entries.slice(0, set - 1);
  if (!later.every((e) => e.subject === RESET_TO_HEAD || WORK_ON_TOP.test(e.subject))) return undefined;
  const rewoundTo = away.commit;
  if (!(await git.test(["merge-base", "--is-ancestor", rewoundTo, own]))) return undefined;
  if (!(await git.test(["merge-base", "--is-ancestor", rewoundTo, head]))) return undefined;
  if (await git.test(["merge-base", "--is-ancestor", own, head])) return undefined;
  return { rewoundTo, madeOnTop: later.filter((e) => WORK_ON_TOP.test(e.subject)).length };
}

/** A merge commit of `head` (first parent: the person's line stays the history) and `own`; throws on a conflict. */
async function mergeCommit(git: Git, head: string, own: string, author: Author, madeOnTop: number): Promise<string> {
  let tree: string;
  try {
    tree = (await git.raw(["merge-tree", "--write-tree", "--no-messages", head, own])).split("\n")[0]?.trim() ?? "";
  } catch (e) {
    throw new Error(`the server's commit ${own} and the ${madeOnTop} commit(s) made on the rewound HEAD change the same lines; merge it by hand (git merge ${own}): ${(e as Error).message}`);
  }
  const message = `Restore the server's commit ${own.slice(0, 12)}, rewound by a git reset --hard that ran beside it\n\n${madeOnTop} commit(s) were made on the rewound HEAD before the server noticed; this merge brings the acknowledged write back.\n`;
  const env = { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email, GIT_COMMITTER_NAME: author.name, GIT_COMMITTER_EMAIL: author.email };
  return (await git.raw(["commit-tree", tree, "-p", head, "-p", own, "-m", message], { env })).trim();
}
