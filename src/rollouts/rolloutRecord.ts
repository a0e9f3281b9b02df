import type { ConfigKind } from "../domain/agent.ts";
import type { CountCut } from "../domain/rolloutBucket.ts";
import type { FailureGroup, RolloutProgress, WaveCounts } from "../domain/rolloutPlan.ts";
import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import type { ConfigRecord, GroupSpec, InstanceConfigRecord } from "../domain/types.ts";

/** An operator's action (or the server's own), kept in the rollout's history. */
export interface RolloutEvent {
  readonly at: number;
  /** `server` for what the rollout did by itself; else who asked (the author header, the token's name). */
  readonly who: string;
  readonly action: "started" | "advanced" | "halted" | "reverted" | "completed" | "pause" | "resume" | "promote" | "abort" | "superseded" | "revert-pending" | "revert-failed";
  readonly detail?: string | undefined;
}

/**
 * One rollout, as kept (and persisted) by the controller: plain JSON, so it survives a restart
 * and could be shared with other processes as is.
 */
export interface RolloutRecord {
  readonly kind: ConfigKind;
  readonly name: string;
  /** The version that last reached everyone (undefined: a new config), served outside the current waves. */
  readonly from: ConfigRecord | InstanceConfigRecord | undefined;
  /** The new version; -1 when the commit removed the config (the removal follows the waves). */
  readonly to: { readonly version: number; readonly commit: string };
  /**
   * The groups that applied `from`: who outside the current waves keeps it (and who gets nothing,
   * where a commit bound the config to more agents), and what a revert puts back in the group files.
   * Absent in records kept before groups were (agents outside then keep `from` where the commit
   * applies the config) and in pinned ones (the commit's groups are those of before again).
   */
  readonly fromGroups?: readonly GroupSpec[] | undefined;
  /** A removal: the policy the config had (the config, and so its policy, is gone from the commit). */
  readonly removalPolicy?: RolloutPolicy | undefined;
  /** `waves`: served by wave; `pinned`: everyone gets `from` (reverted, or put back by a commit). */
  readonly mode: "waves" | "pinned";
  readonly progress: RolloutProgress;
  /** The cuts of count waves, fixed when each started (index: wave - 1). */
  readonly cuts: readonly (CountCut | undefined)[];
  /** Waves 1..cutWaves had their count cuts made (a count wave not cut yet selects nobody). */
  readonly cutWaves?: number | undefined;
  /** Agents known to have received the new version (they reported it), with when it was first seen. */
  readonly received: Readonly<Record<string, number>>;
  readonly history: readonly RolloutEvent[];
  /** The revert commit, once made; or why it is not (read-only, a write that failed). */
  readonly revertCommit?: string | undefined;
  readonly revertPending?: string | undefined;
  /** The last evaluation, for the API: counts per wave and failures. */
  readonly waves?: readonly WaveCounts[] | undefined;
  readonly failures?: readonly FailureGroup[] | undefined;
}

export const keyOf = (kind: ConfigKind, name: string): string => `${kind}:${name}`;

/** Still deciding what agents get (not completed, nor ended by a newer commit). */
export function isActive(r: RolloutRecord): boolean {
  return r.progress.status !== "completed";
}

/** A record without what cannot or need not be kept (the policy objects inside a config record). */
export function storable(record: ConfigRecord | InstanceConfigRecord | undefined): ConfigRecord | InstanceConfigRecord | undefined {
  if (record === undefined) return undefined;
  const { rollout: _policy, ...rest } = record;
  return Object.freeze(rest);
}
