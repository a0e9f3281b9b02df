import type { ConfigVersion } from "../domain/configVersion.ts";
import { formatProblem } from "../problemFormat.ts";
import type { Git } from "./git.ts";
import { SnapshotLoader } from "./snapshotLoader.ts";

/** The commit a server serves: its id and first-parent depth ("" and 0: none). */
export interface ServedAt {
  readonly commit: string;
  readonly depth: number;
}

/** How many commits past the served one are validated to say why they were refused. */
const CHECK_LIMIT = 20;
/** Problems named per refused version; the rest are counted. */
const PROBLEMS_SHOWN = 5;
/** How far back a reader without a server looks for the commit a server would serve. */
const SEARCH_LIMIT = 100;

/**
 * Marks a history (newest first) the way the server sees it: the version it serves (the newest
 * change at or before the served commit) and, for the changes after it, the validation problems
 * that kept them from agents. A change after the served commit that validates is left unmarked
 * (the server has not loaded it yet, or HEAD moved past it).
 */
export async function markHistory(git: Git, versions: readonly ConfigVersion[], served: ServedAt): Promise<ConfigVersion[]> {
  const loader = new SnapshotLoader(git);
  let checked = 0;
  let servedFound = false;
  const out: ConfigVersion[] = [];
  for (const v of versions) {
    if (v.depth > served.depth || !served.commit) {
      if (checked++ >= CHECK_LIMIT) {
        out.push(v);
        continue;
      }
      const problems = await loader.problemsAt(v.commit).catch(() => []);
      if (problems.length === 0) {
        out.push(v);
        continue;
      }
      const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => formatProblem(p));
      if (problems.length > PROBLEMS_SHOWN) shown.push(`… and ${problems.length - PROBLEMS_SHOWN} more problem(s)`);
      out.push({ ...v, refused: shown });
      continue;
    }
    if (!servedFound) {
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
export async function servableCommit(git: Git, rev = "HEAD"): Promise<ServedAt> {
  const chain = (await git.raw(["rev-list", "--first-parent", `--max-count=${SEARCH_LIMIT + 1}`, rev]).catch(() => "")).split("\n").filter(Boolean);
  if (chain.length === 0) return { commit: "", depth: 0 };
  const total = Number((await git.raw(["rev-list", "--first-parent", "--count", rev])).trim());
  const loader = new SnapshotLoader(git);
  for (const [i, commit] of chain.entries()) {
    if ((await loader.problemsAt(commit)).length === 0) return { commit, depth: total - i };
  }
  return { commit: "", depth: 0 };
}
