import { ApplyStatus, isLate, type AgentRecord } from "./agent.ts";

/** The fleet at a glance: how many agents, by protocol and by version, late, and failing. */
export interface FleetSummary {
  readonly agents: number;
  /** No heartbeat for three intervals. */
  readonly late: number;
  /** Agents reporting at least one FAILED config. */
  readonly failed: number;
  readonly byProtocol: Readonly<Record<string, number>>;
  /** Agent software versions, most agents first. */
  readonly byVersion: readonly { readonly version: string; readonly agents: number }[];
}

const failing = (a: AgentRecord) => a.pipelines.some((c) => c.status === ApplyStatus.FAILED) || a.instances.some((c) => c.status === ApplyStatus.FAILED);

/** One pass over the live agents. */
export function summarizeFleet(agents: Iterable<AgentRecord>, now: number): FleetSummary {
  let count = 0;
  let late = 0;
  let failed = 0;
  const byProtocol: Record<string, number> = { alpha: 0, v1: 0, v2: 0 };
  const byVersion = new Map<string, number>();
  for (const a of agents) {
    const hb = a.heartbeat;
    if (!hb) continue;
    count++;
    if (isLate(a, now)) late++;
    if (failing(a)) failed++;
    byProtocol[hb.protocol] = (byProtocol[hb.protocol] ?? 0) + 1;
    byVersion.set(hb.attributes.version, (byVersion.get(hb.attributes.version) ?? 0) + 1);
  }
  const versions = [...byVersion].map(([version, n]) => ({ version, agents: n }));
  versions.sort((x, y) => y.agents - x.agents || (x.version < y.version ? -1 : x.version > y.version ? 1 : 0));
  return { agents: count, late, failed, byProtocol, byVersion: versions };
}
