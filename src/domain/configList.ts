import type { ConfigRecord } from "./types.ts";
import { byName } from "./names.ts";

export const UpdateStatus = { SAME: 0, NEW: 1, DELETED: 2, MODIFIED: 3 } as const;
export type UpdateStatus = (typeof UpdateStatus)[keyof typeof UpdateStatus];

export interface ConfigUpdate {
  readonly name: string;
  readonly status: UpdateStatus;
  /** Set for NEW and MODIFIED only. */
  readonly config?: ConfigRecord;
}

/**
 * The GetConfigList answer (AgentGetConfigListResponse in proto/agent.proto): `applied` is sorted by name; any version difference,
 * higher or lower, re-sends the config.
 */
export function diffConfigList(applied: readonly ConfigRecord[], reported: ReadonlyMap<string, number>): ConfigUpdate[] {
  const out: ConfigUpdate[] = [];
  let reportedAndApplied = 0;
  for (const config of applied) {
    const version = reported.get(config.name);
    if (version === undefined) {
      out.push({ name: config.name, status: UpdateStatus.NEW, config });
      continue;
    }
    reportedAndApplied++;
    if (version !== config.version) out.push({ name: config.name, status: UpdateStatus.MODIFIED, config });
    else out.push({ name: config.name, status: UpdateStatus.SAME });
  }
  // The common poll reports exactly the applied set: skip the DELETED scan then.
  if (reported.size > reportedAndApplied) {
    const appliedNames = new Set(applied.map((c) => c.name));
    for (const name of reported.keys()) {
      if (!appliedNames.has(name)) out.push({ name, status: UpdateStatus.DELETED });
    }
    out.sort(byName);
  }
  return out;
}
