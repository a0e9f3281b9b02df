import { RepoState } from "../domain/repoState.ts";
import { RolloutOverlay, type RollingConfig } from "../domain/rolloutOverlay.ts";
import type { RolloutPolicy } from "../domain/rolloutPolicy.ts";
import type { ConfigRecord, GroupSpec, InstanceConfigRecord } from "../domain/types.ts";

/**
 * A served snapshot as the primary sends it to its workers: the records that changed since `base`
 * (the commit the worker serves), or every record when `base` is null. Records are plain data
 * (the v2 JSON of each config included), so a worker builds the same RepoState without git.
 */
export interface SnapshotMessage {
  readonly commit: string;
  readonly depth: number;
  readonly committedAt: number;
  readonly base: string | null;
  readonly configs: readonly ConfigRecord[];
  readonly removedConfigs: readonly string[];
  readonly instances: readonly InstanceConfigRecord[];
  readonly removedInstances: readonly string[];
  /** Every group (a few small records). */
  readonly groups: readonly GroupSpec[];
  /** The repository's rollout policy (small, plain data). */
  readonly rollout?: RolloutPolicy | undefined;
  /**
   * The rollouts' overlay the primary serves this commit with (plain data): installed with the
   * snapshot, so a worker never answers from the new commit without it.
   */
  readonly rollouts: readonly RollingConfig[];
}

/** The records of `state` that are not in `previous` (by identity: the store keeps unchanged records), or all of them. */
function changed<T extends { name: string }>(now: ReadonlyMap<string, T>, before: ReadonlyMap<string, T> | undefined): { put: T[]; removed: string[] } {
  const put: T[] = [];
  for (const [name, r] of now) if (before?.get(name) !== r) put.push(r);
  const removed = before === undefined ? [] : [...before.keys()].filter((name) => !now.has(name));
  return { put, removed };
}

/** What a worker serving `previous` needs to serve `state` (all of it without `previous`). */
export function snapshotMessage(state: RepoState, previous?: RepoState): SnapshotMessage {
  const configs = changed(state.configs, previous?.configs);
  const instances = changed(state.instanceConfigs, previous?.instanceConfigs);
  return {
    commit: state.commit,
    depth: state.depth,
    committedAt: state.committedAt,
    base: previous === undefined ? null : previous.commit,
    configs: configs.put,
    removedConfigs: configs.removed,
    instances: instances.put,
    removedInstances: instances.removed,
    groups: state.sortedGroups,
    ...(state.rollout ? { rollout: state.rollout } : {}),
    rollouts: state.rollouts.entries,
  };
}

function merged<T extends { name: string }>(before: ReadonlyMap<string, T> | undefined, put: readonly T[], removed: readonly string[]): Iterable<T> {
  const out = new Map(before ?? []);
  for (const name of removed) out.delete(name);
  for (const r of put) out.set(r.name, r);
  return out.values();
}

/**
 * The state a message describes, built on `current`; undefined when the message is a change from
 * another commit than the one `current` serves (the worker then asks for the whole snapshot).
 */
export function applySnapshot(current: RepoState | undefined, m: SnapshotMessage): RepoState | undefined {
  const base = m.base === null ? undefined : current;
  if (m.base !== null && current?.commit !== m.base) return undefined;
  const state = new RepoState(m.commit, m.depth, m.committedAt, merged(base?.configs, m.configs, m.removedConfigs), m.groups, merged(base?.instanceConfigs, m.instances, m.removedInstances), m.rollout);
  return state;
}

/** The overlay a worker lays over its snapshot; `onServed` reports to the primary who got a new version. */
export function workerOverlay(entries: readonly RollingConfig[], onServed: (kind: "pipeline" | "instance", name: string, instanceId: string) => void): RolloutOverlay {
  return new RolloutOverlay(entries, onServed);
}
