import type { ConfigReport } from "./agent.ts";

export interface Versioned {
  readonly name: string;
  readonly version: number;
}

/** What an agent must change to run exactly what is applied to it. */
export interface AgentChanges<T> {
  /** Applied configs it does not have at their served version (not reported, or another version). */
  readonly updates: readonly T[];
  /** Configs it reports that are not applied to it (any more, or ever). */
  readonly removed: readonly ConfigReport[];
}

const NOTHING: AgentChanges<never> = Object.freeze({ updates: Object.freeze([]), removed: Object.freeze([]) });

/** Version -1: the agent says it deleted the config (protocol v2's rule). */
export const DELETED_VERSION = -1;

/**
 * The changes for an agent that reports `reported` while `applied` is applied to it (both sorted
 * by name). Only differences are returned: agents that take configs incrementally (v1, v2) reload
 * a pipeline for every config they receive. A reported deletion (version -1) of a config that is
 * not applied needs nothing. The common case (no change) allocates nothing.
 */
export function changesFor<T extends Versioned>(applied: readonly T[], reported: readonly ConfigReport[]): AgentChanges<T> {
  let updates: T[] | undefined;
  let removed: ConfigReport[] | undefined;
  let i = 0;
  let j = 0;
  while (i < applied.length || j < reported.length) {
    const a = applied[i];
    const r = reported[j];
    if (a !== undefined && (r === undefined || a.name < r.name)) {
      (updates ??= []).push(a);
      i++;
    } else if (r !== undefined && (a === undefined || r.name < a.name)) {
      if (r.version !== DELETED_VERSION) (removed ??= []).push(r);
      j++;
    } else {
      if ((a as T).version !== (r as ConfigReport).version) (updates ??= []).push(a as T);
      i++;
      j++;
    }
  }
  return updates === undefined && removed === undefined ? NOTHING : { updates: updates ?? [], removed: removed ?? [] };
}
