import type { Middleware } from "koa";
import type { Absorbing } from "../agents/workerFleet.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { RollingConfig } from "../domain/rolloutOverlay.ts";
import type { WorkerStatus } from "../http/status.ts";
import type { RolloutController } from "../rollouts/rolloutController.ts";

/**
 * What changes when this composition is the primary of --workers processes: it answers no agent
 * (the workers do), listens on a Unix socket for what they forward, reads the fleet from what they
 * send, and tells them about every commit it serves.
 */
export interface PrimaryRole {
  /** The fleet view over the registry --registry chose: the workers' changes are absorbed into it. */
  readonly fleet: (registry: Absorbing) => AgentRegistry;
  readonly socketPath: string;
  /** A new commit is served here (after this process's own handling: its snapshot carries the rollouts' overlay). */
  readonly onServed: (state: RepoState, previous: RepoState) => void;
  /** The rollouts' overlay changed between commits (a wave advanced, a revert pinned a config). */
  readonly onRollouts: (entries: readonly RollingConfig[]) => void;
  /** Set once the rollout controller exists: workers report the agents they served a new version. */
  readonly rollouts: (controller: RolloutController) => void;
  /** Around every request (after the token check). */
  readonly middleware: readonly Middleware[];
  /** v2 heartbeats the workers hold (WaitForChange), for /status. */
  readonly heldHeartbeats: () => number;
  /** The workers, for /status. */
  readonly workers: () => readonly WorkerStatus[];
}
