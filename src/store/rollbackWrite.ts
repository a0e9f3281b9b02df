import { planRollback } from "../domain/rollback.ts";
import { formatProblem } from "../problemFormat.ts";
import { readConfigVersion, type ConfigAtVersion } from "./configHistory.ts";
import { contentChecker } from "./contentCheck.ts";
import { configPath } from "./repoContent.ts";
import type { RepoStore, WriteOptions, WriteResult } from "./repoStore.ts";

export interface RollbackOutcome {
  readonly target: ConfigAtVersion;
  readonly result: WriteResult;
  /** One sentence for people: what was done, and what is still broken in HEAD. */
  readonly summary: string;
  /** HEAD's remaining problems when it still fails validation after the rollback. */
  readonly stillRefused?: { readonly commit: string; readonly problems: readonly string[] };
}

/** Problems named in an answer; the rest are counted. */
const PROBLEMS_SHOWN = 10;

/**
 * Restores config `name` as it was at `version` of HEAD's history, as one commit (the API's,
 * the CLI's and the console's rollback). It is the one write allowed while HEAD fails validation:
 * it is how a broken commit gets repaired. When the rest of HEAD is still broken, the outcome
 * says what, and the server keeps serving its last valid commit.
 */
export async function rollbackConfig(store: RepoStore, name: string, version: number, who: WriteOptions = {}): Promise<RollbackOutcome> {
  const target = await readConfigVersion(store.git, name, version, "HEAD");
  const path = configPath(name);
  const result = await store.write(
    (state, head) => planRollback(state, name, { version, commit: target.entry.commit, spec: target.spec, text: target.text }, contentChecker(store.contentLimits), head ? { text: head.texts.get(path) } : undefined),
    { ...who, onRefusedHead: true },
  );
  const done = result.commit ? `Rolled back config ${name} to version ${version}` : `Config ${name} already equals version ${version}; nothing to commit`;
  const refused = result.refused;
  if (!refused) return { target, result, summary: done };
  const problems = refused.problems.map((p) => formatProblem(p));
  const shown = problems.slice(0, PROBLEMS_SHOWN).join("; ") + (problems.length > PROBLEMS_SHOWN ? `; … and ${problems.length - PROBLEMS_SHOWN} more` : "");
  const served = result.state.commit ? `the server keeps serving commit ${result.state.commit.slice(0, 12)}` : "no commit is served";
  return {
    target,
    result,
    summary: `${done}; HEAD ${refused.commit.slice(0, 12)} still fails validation, so ${served} until it is fixed (${problems.length} problem(s): ${shown})`,
    stillRefused: { commit: refused.commit, problems },
  };
}
