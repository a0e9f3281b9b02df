import { ApplyStatus, reportsApplyStatus, type AgentProtocol, type AgentRecord, type ConfigKind, type ConfigReport } from "./agent.ts";
import type { Applied, RepoState } from "./repoState.ts";

/** How the served version of one config has reached the agents it targets. */
export interface Rollout {
  readonly name: string;
  readonly kind: ConfigKind;
  readonly servedVersion: number;
  /** The commit that made the served version. */
  readonly versionCommit: string;
  /** Live agents that the served commit applies the config to. */
  readonly targeted: number;
  /** Run the served version (v2 and OpAMP: reported APPLIED; alpha and v1, which report no status: report it). */
  readonly applied: number;
  /** v2 and OpAMP agents that have the served version but have not said it loaded (APPLYING, or no status). */
  readonly applying: number;
  /** Agents that report the served version FAILED. */
  readonly failed: number;
  /** Agents that report another version. */
  readonly older: number;
  /** Agents that do not report the config at all (yet). */
  readonly notReported: number;
  /** Failures grouped by message, most agents first, each with at most `maxIds` agent ids (sorted). */
  readonly failures: readonly { readonly message: string; readonly count: number; readonly agents: readonly string[] }[];
}

/** Where a config stands on one agent that it targets. */
export type ConfigState = "applied" | "applying" | "failed" | "older" | "notReported";
export const CONFIG_STATES: readonly ConfigState[] = ["applied", "applying", "failed", "older", "notReported"];

/**
 * How one targeted agent stands with the served version: not reported (or reported deleted),
 * another version, FAILED, applied (v2: APPLIED; alpha and v1 report no status, so reporting the
 * version is having it), or applying (v2: APPLYING or no status yet).
 */
export function standing(protocol: AgentProtocol, report: ConfigReport | undefined, servedVersion: number): ConfigState {
  if (report === undefined || report.version === -1) return "notReported";
  if (report.version !== servedVersion) return "older";
  if (report.status === ApplyStatus.FAILED) return "failed";
  return !reportsApplyStatus(protocol) || report.status === ApplyStatus.APPLIED ? "applied" : "applying";
}

/** The list of `kind` an agent of `protocol` receives from what its tag set is applied (OpAMP agents: the `agent_type: opamp` configs). */
export function appliedList(applied: Applied, kind: ConfigKind, protocol: AgentProtocol): readonly { readonly name: string }[] {
  if (protocol === "opamp") return kind === "pipeline" ? applied.opamp : [];
  return kind === "pipeline" ? applied.configs : applied.instances;
}

/** Whether the served config goes to agents with these applied lists (v2 agents: only mappings). */
export function targets(config: { readonly name: string; readonly detailJson?: string | undefined }, protocol: AgentProtocol, applied: readonly { readonly name: string }[]): boolean {
  return (protocol !== "v2" || config.detailJson !== undefined) && applied.some((c) => c.name === config.name);
}

export function findReport(reports: readonly ConfigReport[], name: string): ConfigReport | undefined {
  let lo = 0;
  let hi = reports.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = reports[mid] as ConfigReport;
    if (r.name === name) return r;
    if (r.name < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * The rollout of config `name` (of `kind`) at the served commit over `agents` (live agents with
 * a heartbeat). Undefined when the served commit has no such config. A v2 agent is targeted only
 * by configs it can take (content that is a mapping).
 */
export function rolloutOf(state: RepoState, kind: ConfigKind, name: string, agents: Iterable<AgentRecord>, maxIds = 100): Rollout | undefined {
  const config = kind === "pipeline" ? state.configs.get(name) : state.instanceConfigs.get(name);
  if (!config) return undefined;
  const counts: Record<ConfigState, number> = { applied: 0, applying: 0, failed: 0, older: 0, notReported: 0 };
  let targeted = 0;
  const failures = new Map<string, string[]>();
  // Whether a tag set is targeted is the same for every agent that has it: asked once per set and protocol.
  const targetedSets = new Map<string, boolean>();
  for (const agent of agents) {
    const hb = agent.heartbeat;
    if (!hb) continue;
    const key = `${hb.protocol}${state.matchKey(agent.tagsKey, hb.attributes)}`;
    let t = targetedSets.get(key);
    if (t === undefined) {
      const a = state.applied(agent.tagsKey, hb.tags, hb.attributes);
      targetedSets.set(key, (t = targets(config, hb.protocol, appliedList(a, kind, hb.protocol))));
    }
    if (!t) continue;
    targeted++;
    const report = findReport(kind === "pipeline" ? agent.pipelines : agent.instances, name);
    const where = standing(hb.protocol, report, config.version);
    counts[where]++;
    if (where === "failed") {
      const message = (report as ConfigReport).message;
      const ids = failures.get(message) ?? [];
      ids.push(agent.agentId);
      failures.set(message, ids);
    }
  }
  const { applied, applying, failed, older, notReported } = counts;
  const grouped = [...failures].map(([message, ids]) => ({ message, count: ids.length, agents: ids.sort().slice(0, maxIds) }));
  grouped.sort((a, b) => b.count - a.count || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  return { name, kind, servedVersion: config.version, versionCommit: config.commit, targeted, applied, applying, failed, older, notReported, failures: grouped };
}
