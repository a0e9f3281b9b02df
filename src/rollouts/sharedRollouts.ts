import type { ConfigKind } from "../domain/agent.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { OperatorAction } from "./rolloutActions.ts";
import { keyOf, type RolloutRecord } from "./rolloutRecord.ts";

/** The rollouts as the deciding replica last shared them: its served commit and every record, with counts. */
export interface SharedRollouts {
  readonly commit: string;
  readonly rollouts: readonly RolloutRecord[];
}

/** An agent first served a rollout's new version by a replica that does not decide: kind, config, instance id, when. */
export type ServedNote = readonly [ConfigKind, string, string, number];

/**
 * How the replicas of one Redis share the rollouts (src/rollouts/redisRollouts.ts; absent without
 * Redis, where the one process decides alone). One replica decides at a time (it holds a lease):
 * it evaluates, acts and commits reverts, and shares every record; the others serve the records
 * it shared and send it what only they see (agents they served, operators' actions).
 */
export interface RolloutSharing {
  /** Whether this replica holds the lease: only it evaluates the plans and acts. */
  readonly deciding: boolean;
  /** Shares the records (deciding replica only); never throws; resolves once the others were sent them (or sending failed). */
  publish(state: SharedRollouts): Promise<void>;
  /** The records last shared, read at once (a replica that starts deciding continues from them). */
  read(): Promise<SharedRollouts | undefined>;
  /** Sends a served note to the deciding replica; never throws, never waits (batched). */
  noteServed(note: ServedNote): void;
  /** The notes the other replicas sent since the last call (deciding replica only). */
  drainServed(): Promise<readonly ServedNote[]>;
  /** An operator's action, carried out by the deciding replica: its answer, or a DomainError saying none answered. */
  forward(name: string, action: OperatorAction, who: string, kind: ConfigKind | undefined): Promise<RolloutRecord>;
}

/**
 * What a replica serves once it learns the shared records. When the deciding replica shared them
 * at the commit this replica serves, they are the truth, whole. While the two serve different
 * commits (one fetched first), per config: the shared record, unless this replica's own is about
 * the version its snapshot serves and the shared one is not. So a replica ahead keeps serving a
 * new change from its own wave 1 (never further), a replica behind keeps what its snapshot says,
 * and a record left from an earlier time (a restart) gives way to the shared one.
 */
export function mergeShared(own: ReadonlyMap<string, RolloutRecord>, shared: SharedRollouts, state: RepoState): Map<string, RolloutRecord> {
  const next = shared.commit === state.commit ? new Map<string, RolloutRecord>() : new Map(own);
  for (const s of shared.rollouts) {
    const key = keyOf(s.kind, s.name);
    const mine = next.get(key);
    if (mine === undefined || !aboutServed(mine, state) || aboutServed(s, state)) next.set(key, s);
  }
  return next;
}

/** Whether the record is about the version of its config the snapshot serves (or its removal). */
function aboutServed(r: RolloutRecord, state: RepoState): boolean {
  const served = r.kind === "pipeline" ? state.configs.get(r.name) : state.instanceConfigs.get(r.name);
  return served === undefined ? r.to.version === -1 : served.version === r.to.version;
}

/** JSON has no undefined: a count wave without a cut travels as null. */
export function revived(records: readonly RolloutRecord[]): RolloutRecord[] {
  return records.map((r) => ({ ...r, cuts: r.cuts.map((c) => c ?? undefined) }));
}
