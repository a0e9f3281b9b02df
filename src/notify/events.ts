import type { ConfigKind } from "../domain/agent.ts";
import type { FailureGroup } from "../domain/rolloutPlan.ts";
import type { Problem } from "../domain/types.ts";

/** The config a rollout is about. */
export interface RolloutSubject {
  readonly kind: ConfigKind;
  readonly name: string;
  /** The new version and the commit that made it. */
  readonly to: { readonly version: number; readonly commit: string };
  /** The version that last reached everyone; undefined for a new config. */
  readonly from?: { readonly version: number; readonly commit: string } | undefined;
}

/**
 * What the server tells the `--notify-url` receivers about, one member per event type. The
 * rollout controller and the store build these; the notifier adds `time`, `server` and `text`.
 */
export type NotifyEvent =
  | (RolloutSubject & { readonly type: "rollout.started"; readonly waves: number })
  | (RolloutSubject & { readonly type: "rollout.wave_advanced"; readonly wave: number; readonly waves: number })
  | (RolloutSubject & {
    readonly type: "rollout.halted";
    readonly wave: number;
    /** Why, in words (the halt rule, a timeout). */
    readonly reason: string;
    /** What the server does next: `revert` (a revert commit follows) or `pause`. */
    readonly onHalt: "revert" | "pause";
    /** Set when the revert cannot be committed (read-only): why; the previous version is served all the same. */
    readonly revertPending?: string | undefined;
    /** Grouped by message, most agents first, each naming its agents. */
    readonly failures: readonly FailureGroup[];
  })
  | (RolloutSubject & { readonly type: "rollout.reverted"; readonly wave: number; readonly revertCommit: string })
  | (RolloutSubject & { readonly type: "rollout.completed"; readonly waves: number })
  | {
    readonly type: "commit.refused";
    readonly commit: string;
    readonly problems: readonly Problem[];
    /** The commit still served; "" when none is (agents are answered ServerBusy). */
    readonly served: string;
  };

export type NotifyEventType = NotifyEvent["type"];

export const EVENT_TYPES: readonly NotifyEventType[] = ["rollout.started", "rollout.wave_advanced", "rollout.halted", "rollout.reverted", "rollout.completed", "commit.refused"];
