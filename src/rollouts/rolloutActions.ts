import { DomainError } from "../domain/errors.ts";
import { abortRollout, pauseRollout, promoteRollout, resumeRollout } from "../domain/rolloutPlan.ts";
import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import type { RolloutEvent, RolloutRecord } from "./rolloutRecord.ts";

export type OperatorAction = "pause" | "resume" | "promote" | "abort";

/**
 * An operator's action on a rollout, recorded in its history with who did it; refused (400, saying
 * why) when the rollout's state does not allow it. `failedNow`: failures a resume accepts.
 */
export function actedOn(r: RolloutRecord, action: OperatorAction, who: string, policy: RolloutPolicy | undefined, failedNow: number, now: number): RolloutRecord {
  const refuse = (why: string): never => {
    throw new DomainError("InvalidParameter", `Cannot ${action} the rollout of config ${r.name}: it is ${r.progress.status}${why}.`);
  };
  if (r.progress.status === "completed" || r.progress.status === "reverted" || r.mode === "pinned") refuse(r.mode === "pinned" && r.progress.status !== "reverted" ? " (being reverted)" : "");
  const history = [...r.history, { at: now, who, action } satisfies RolloutEvent];
  switch (action) {
    case "pause":
      if (r.progress.status !== "progressing") refuse(" (only a progressing rollout can be paused)");
      return { ...r, progress: pauseRollout(r.progress), history };
    case "resume":
      if (r.progress.status !== "paused" && r.progress.status !== "halted") refuse(" (only a paused or halted rollout can be resumed)");
      return { ...r, progress: resumeRollout(r.progress, failedNow, now), history };
    case "promote":
      if (r.progress.status === "halted") refuse(" (resume it first, or abort it)");
      return { ...r, progress: promoteRollout(policy ?? refuse(" (its config has no rollout policy any more)"), r.progress, now), history };
    case "abort":
      return { ...r, progress: abortRollout(r.progress, who, now).progress, history };
  }
}

/**
 * Why a halted rollout's revert cannot be committed by the server (it is served all the same), or
 * undefined. Every kind of rollout is reverted by a commit (revertPlan.ts): only read-only mode
 * leaves it to a person (and a write that fails, recorded when it does).
 */
export function revertPending(readOnly: boolean): string | undefined {
  if (readOnly) return "revert pending: read-only (the previous version is served to every agent; commit the revert to the repository)";
  return undefined;
}
