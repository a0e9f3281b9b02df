import type { Logger } from "pino";
import type { RepoState } from "../domain/repoState.ts";
import type { Metrics } from "../metrics.ts";
import type { Notifier } from "../notify/notifier.ts";
import { SeenCommits } from "../notify/seenCommits.ts";
import { formatProblem } from "../problemFormat.ts";
import type { ChangeSignal } from "../protocols/changeSignal.ts";
import type { CommitFanout } from "../redis/commitFanout.ts";
import type { RolloutController } from "../rollouts/rolloutController.ts";
import type { StoreEvents } from "../store/repoStore.ts";

export interface StoreEventsDeps {
  /** Set once the store is open; it lays the rollouts over each new snapshot before any agent sees it. */
  readonly rollouts: () => RolloutController | undefined;
  readonly metrics: Metrics;
  /** Wakes the v2 heartbeats held for a change. */
  readonly changes: ChangeSignal;
  /** With --workers: told every commit served, after this process's own handling. */
  readonly primary?: { readonly onServed: (state: RepoState, previous: RepoState) => void } | undefined;
  /** Replicas on one Redis: told every commit served (set once the scheduler exists). */
  readonly fanout: () => CommitFanout | undefined;
  readonly logger: Logger;
  readonly notifier: Notifier;
}

/**
 * What the process does when the store serves, refuses, repairs, writes or syncs: the rollouts
 * first (no agent sees a new commit outside its wave), then metrics, waiting heartbeats, the
 * workers, the other replicas, the log and the --notify-url events.
 */
export function storeEvents(deps: StoreEventsDeps): StoreEvents {
  const { metrics, changes, logger, notifier } = deps;
  // A refused HEAD is looked at again on every sync and reload: one event per commit.
  const refusedSeen = new SeenCommits();
  return {
    onServed: (state, previous, ms) => {
      deps.rollouts()?.onServed(state, previous);
      metrics.snapshotServed(ms);
      changes.fire();
      deps.primary?.onServed(state, previous);
      deps.fanout()?.announce("commit", state.commit);
      logger.info({ commit: state.commit, previous: previous.commit, configs: state.configs.size, groups: state.groups.size, ms: Math.round(ms) }, "serving new commit");
    },
    onRefused: (r, served) => {
      metrics.commitRefused();
      if (refusedSeen.first(r.commit)) notifier.emit({ type: "commit.refused", commit: r.commit, problems: r.problems, served: served.commit });
      const problems = r.problems.map((p) => formatProblem(p));
      if (served.commit) logger.error({ commit: r.commit, problems, served: served.commit }, "commit failed validation; still serving the last valid commit");
      else logger.error({ commit: r.commit, problems }, "commit failed validation and no earlier commit is valid: agents are answered ServerBusy until a valid commit arrives");
    },
    onContentWarnings: (commit, warnings) => {
      logger.warn({ commit, warnings: warnings.map((w) => formatProblem(w)) }, "served configs hold credentials in plain text: write ${ENV_VAR} references instead (--secrets strict refuses them)");
    },
    onRepaired: (done) => logger.warn({ repaired: done }, "repaired what an interrupted write of an earlier server process left in the repository"),
    onWritten: (result, seconds) => metrics.writeCompleted(result, seconds),
    // The client's answer names paths relative to the repository; the full error is logged here.
    onWriteFailed: (e) => {
      const cause = (e as Error).cause;
      if (cause !== undefined) logger.warn({ err: cause, answered: (e as Error).message }, "write failed");
    },
    onRewoundRestored: ({ commit, rewoundTo, madeOnTop, restored, error }) => {
      const how = madeOnTop === 0 ? "HEAD is moved forward to it again" : `it is merged with the ${madeOnTop} commit(s) made on the rewound HEAD`;
      if (error === undefined) logger.warn({ commit, rewoundTo, madeOnTop, restored }, `a git reset --hard running beside a write moved HEAD back over the server's commit; ${how}`);
      else logger.error({ commit, rewoundTo, madeOnTop, err: error }, "a git reset --hard running beside a write moved HEAD back over the server's commit, and bringing it back failed: the acknowledged write is only in the reflog until someone merges it");
    },
    onSynced: (r) => {
      metrics.syncCompleted(r.ok);
      if (r.ok) logger.debug({ action: r.action }, "synced with remote");
      else if (r.blocked) logger.warn({ paths: r.blocked, error: r.error }, "sync cannot move the working tree: uncommitted edits are in the way");
      else logger.warn({ action: r.action, error: r.error }, "sync with remote failed");
    },
  };
}
