import type { ConfigVersion } from "../domain/configVersion.ts";
import { formatProblem } from "../problemFormat.ts";
import type { Git } from "./git.ts";
import { SnapshotLoader } from "./snapshotLoader.ts";
import type { ContentLimits } from "./contentCheck.ts";

/** The commit a server serves: its id and first-parent depth ("" and 0: none). */
export interface ServedAt {
  readonly commit: string;
  readonly depth: number;
}

/** How many changes (newest first) are validated to say which were refused, and why. */
const CHECK_LIMIT = 20;
/** Problems named per refused version; the rest are counted. */
const PROBLEMS_SHOWN = 5;
/** How far back a reader without a server looks for the commit a server would serve. */
const SEARCH_LIMIT = 100;
/** Verdicts kept (a commit's validity never changes): the console asks for a history every few seconds. */
const VERDICTS_KEPT = 5000;
const verdicts = new Map<string, readonly string[]>();

/** A commit's validation problems, formatted (none: it validates), from the cache when known. */
async function problemsOf(loader: SnapshotLoader, commit: string): Promise<readonly string[]> {
  const known = verdicts.get(commit);
  if (known) return known;
  const problems = await loader.problemsAt(commit);
  const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => formatProblem(p));
  if (problems.length > PROBLEMS_SHOWN) shown.push(`… and ${problems.length - PROBLEMS_SHOWN} more problem(s)`);
  if (verdicts.size >= VERDICTS_KEPT) verdicts.clear();
  verdicts.set(commit, shown);
  return shown;
}

/**
 * Marks a history (newest first) the way the server sees it: the version it serves (the newest
 * change at or before the served commit that validates) and, for the newest CHECK_LIMIT changes,
 * the validation problems that kept them from agents. A change after the served commit that
 * validates is left unmarked (the server has not loaded it yet, or HEAD moved past it).
 */
export async function markHistory(git: Git, versions: readonly ConfigVersion[], served: ServedAt, limits: ContentLimits): Promise<ConfigVersion[]> {
  const loader = new SnapshotLoader(git, limits);
  let checked = 0;
  let servedFound = false;
  const out: ConfigVersion[] = [];
  for (const v of versions) {
    const after = v.depth > served.depth || !served.commit;
    // The served commit validates; any other change is checked, the newest CHECK_LIMIT of them.
    if (v.action !== "deleted" && v.commit !== served.commit && checked < CHECK_LIMIT) {
      checked++;
      const problems = await problemsOf(loader, v.commit).catch(() => []);
      if (problems.length > 0) {
        out.push({ ...v, refused: problems });
        continue;
      }
    }
    if (!after && !servedFound) {
      servedFound = true;
      if (v.action !== "deleted") {
        out.push({ ...v, served: true });
        continue;
      }
    }
    out.push(v);
  }
  return out;
}

/**
 * The commit a server started on this repository would serve, read without one: HEAD when it
 * validates, else the newest commit before it on its first-parent chain that does (as far back
 * as the server's own search goes).
 */
export async function servableCommit(git: Git, limits: ContentLimits, rev = "HEAD"): Promise<ServedAt> {
  const chain = (await git.raw(["rev-list", "--first-parent", `--max-count=${SEARCH_LIMIT + 1}`, rev]).catch(() => "")).split("\n").filter(Boolean);
  if (chain.length === 0) return { commit: "", depth: 0 };
  const total = Number((await git.raw(["rev-list", "--first-parent", "--count", rev])).trim());
  const loader = new SnapshotLoader(git, limits);
  for (const [i, commit] of chain.entries()) {
    if ((await problemsOf(loader, commit)).length === 0) return { commit, depth: total - i };
  }
  return { commit: "", depth: 0 };
}
