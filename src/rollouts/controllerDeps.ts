import type { Logger } from "pino";
import type { AgentRegistry } from "../domain/registry.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { RollingConfig } from "../domain/rolloutOverlay.ts";
import type { WritePlan } from "../domain/userOps.ts";
import type { NotifyEvent } from "../notify/events.ts";
import type { PastFiles } from "./previousFileText.ts";
import type { RolloutFile } from "./rolloutFile.ts";
import type { RolloutSharing } from "./sharedRollouts.ts";

/** What the rollout controller is given: it reaches the store, the registry and the other processes only through these. */
export interface ControllerDeps {
  readonly store: {
    readonly state: RepoState;
    write(plan: (state: RepoState) => WritePlan): Promise<{ readonly commit?: string | undefined }>;
    /** Reads files of past commits (`<commit>:<path>`; undefined when absent), for a revert that restores a file exactly. */
    readonly git: PastFiles;
  };
  readonly registry: AgentRegistry;
  readonly file: RolloutFile;
  /** Set in read-only mode: a halted rollout's revert is served but cannot be committed. */
  readonly readOnly: boolean;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How often the rollouts are evaluated (the halt happens within this of the rule firing). */
  readonly intervalMs?: number;
  /**
   * Told every overlay the controller lays over the served snapshot (plain data), so other
   * processes (the workers of --workers) can serve every agent the same.
   */
  readonly onOverlay?: (entries: readonly RollingConfig[]) => void;
  /** Told how long each evaluation of the rollouts in progress took (a metric). */
  readonly onEvaluated?: (ms: number) => void;
  /** Announces what the rollouts did (--notify-url): must return at once and never throw. */
  readonly emit?: (event: NotifyEvent) => void;
  /**
   * Replicas on one Redis (src/rollouts/redisRollouts.ts): only the replica holding the lease
   * decides; the others serve what it shares. Absent: this process decides alone.
   */
  readonly sharing?: RolloutSharing;
}
