import type { AgentRegistry } from "../domain/registry.ts";
import { DomainError } from "../domain/errors.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { AnyRoute } from "./routeContract.ts";

/** The served snapshot holder: `state` is swapped atomically on every new commit. */
export interface SnapshotSource {
  readonly state: RepoState;
  /** Why no commit can be served (every commit fails validation), when that is so. */
  readonly notServableReason?: string | undefined;
}

/** What an agent protocol's routes read: the served snapshot and the registry. Memory only. */
export interface AgentDeps {
  readonly store: SnapshotSource;
  readonly registry: AgentRegistry;
}

/** One agent protocol: its routes, each with the protocol's envelope, mapping to the same domain functions. */
export type AgentRoutes = readonly AnyRoute[];

/**
 * The snapshot to answer configs from. With no valid commit loaded (an empty repository, or one
 * whose every commit fails validation) nothing may be answered from it: an empty snapshot would
 * tell agents to delete every config they run. Agents are told to retry instead.
 */
export function servedState(store: SnapshotSource): RepoState {
  const state = store.state;
  if (state.commit === "") {
    const why = store.notServableReason ?? "the repository has no commits yet";
    throw new DomainError("ServerBusy", `The config server has no valid commit to serve (${why}); keep the current configs and retry later.`);
  }
  return state;
}

type Int64 = { toNumber(): number } | number | string | null | undefined;
/** An int64 as decoded (a Long, or a number/string from JSON) → number; versions stay far below 2^53. */
export const int64 = (v: Int64): number => (v == null ? 0 : typeof v === "object" ? v.toNumber() : Number(v));
/** An int64 printed with every digit (memory figures are only ever shown). */
export const int64Text = (v: Int64): string => (v == null ? "0" : String(v));
