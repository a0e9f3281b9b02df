import { ApplyStatus, isLate, type AgentProtocol, type AgentRecord } from "./agent.ts";
import { DomainError } from "./errors.ts";
import { addressSelectorsIn, groupMatches, matchKey } from "./matching.ts";
import type { RepoState } from "./repoState.ts";
import { appliedList, CONFIG_STATES, findReport, standing, targets, type ConfigState } from "./rollout.ts";
import type { GroupSpec } from "./types.ts";
const PROTOCOLS: readonly AgentProtocol[] = ["alpha", "v1", "v2", "opamp"];

/** A filtered, paged listing of agents (GET /api/v1/agents). Every condition given must hold. */
export interface AgentQuery {
  /** Substring of the agent id, ip or hostname (case-insensitive). */
  readonly text?: string;
  /** Tags the agent must have (name=value; for v1 agents, the value). */
  readonly tags: readonly { readonly name: string; readonly value: string }[];
  readonly group?: string;
  readonly protocol?: AgentProtocol;
  readonly version?: string;
  /** Agents that report at least one FAILED config. */
  readonly failed?: boolean;
  readonly late?: boolean;
  /** With `configState`: where this config (pipeline) stands on the agent. */
  readonly config?: string;
  readonly configState?: ConfigState;
  readonly limit: number;
  /** Agents with an id after this one (the `next` of the previous page). */
  readonly after?: string;
}

export const DEFAULT_PAGE = 500;
export const MAX_PAGE = 5000;

const bool = (name: string, v: string): boolean => {
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new DomainError("InvalidParameter", `Query parameter ${name} must be true or false, got ${JSON.stringify(v)}.`);
};

/** Reads a query string's parameters (the last value of each wins; `tag` may repeat). */
export function parseAgentQuery(params: ReadonlyMap<string, readonly string[]>): AgentQuery {
  const known = new Set(["q", "tag", "group", "protocol", "version", "failed", "late", "config", "configState", "limit", "after"]);
  for (const k of params.keys()) if (!known.has(k)) throw new DomainError("InvalidParameter", `Unknown query parameter ${JSON.stringify(k)}; the agents listing takes ${[...known].join(", ")}.`);
  const one = (k: string) => params.get(k)?.at(-1);
  const tags = (params.get("tag") ?? []).map((t) => {
    const eq = t.indexOf("=");
    if (eq <= 0) throw new DomainError("InvalidParameter", `Query parameter tag must be name=value, got ${JSON.stringify(t)}.`);
    return { name: t.slice(0, eq), value: t.slice(eq + 1) };
  });
  const limitText = one("limit");
  const limit = limitText === undefined ? DEFAULT_PAGE : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new DomainError("InvalidParameter", `Query parameter limit must be an integer from 1 to ${MAX_PAGE}, got ${JSON.stringify(limitText)}.`);
  const protocol = one("protocol");
  if (protocol !== undefined && !PROTOCOLS.includes(protocol as AgentProtocol)) throw new DomainError("InvalidParameter", `Query parameter protocol must be one of ${PROTOCOLS.join(", ")}, got ${JSON.stringify(protocol)}.`);
  const configState = one("configState");
  if (configState !== undefined && !CONFIG_STATES.includes(configState as ConfigState)) throw new DomainError("InvalidParameter", `Query parameter configState must be one of ${CONFIG_STATES.join(", ")}, got ${JSON.stringify(configState)}.`);
  if (configState !== undefined && one("config") === undefined) throw new DomainError("InvalidParameter", "Query parameter configState needs config=<config name>.");
  const q: Record<string, unknown> = { tags, limit };
  const text = one("q");
  if (text) q.text = text.toLowerCase();
  for (const k of ["group", "version", "config", "after"] as const) {
    const v = one(k);
    if (v !== undefined) q[k] = v;
  }
  if (protocol !== undefined) q.protocol = protocol;
  if (configState !== undefined) q.configState = configState;
  const failed = one("failed");
  if (failed !== undefined) q.failed = bool("failed", failed);
  const late = one("late");
  if (late !== undefined) q.late = bool("late", late);
  return q as unknown as AgentQuery;
}

/**
 * A predicate for one query against one served state. Work per tag set (group membership,
 * what is applied) is done once per distinct tag set, not once per agent.
 */
export function agentFilter(query: AgentQuery, state: RepoState, now: number): (a: AgentRecord) => boolean {
  let group: GroupSpec | undefined;
  if (query.group !== undefined) {
    group = state.groups.get(query.group);
    if (!group) throw new DomainError("AgentGroupNotExist", `Agent group ${query.group} doesn't exist.`);
  }
  const config = query.config !== undefined ? state.configs.get(query.config) : undefined;
  if (query.config !== undefined && !config) throw new DomainError("ConfigNotExist", `Config ${query.config} doesn't exist in the served commit.`);
  const inGroup = new Map<string, boolean>();
  const groupSelectors = addressSelectorsIn(group ? [group] : []);
  const targeted = new Map<string, boolean>();
  return (a) => {
    const hb = a.heartbeat;
    if (!hb) return false;
    if (query.protocol !== undefined && hb.protocol !== query.protocol) return false;
    if (query.version !== undefined && hb.attributes.version !== query.version) return false;
    if (query.text !== undefined) {
      const t = query.text;
      if (!a.agentId.toLowerCase().includes(t) && !hb.attributes.ip.toLowerCase().includes(t) && !hb.attributes.hostname.toLowerCase().includes(t)) return false;
    }
    for (const tag of query.tags) {
      const named = hb.tags.named;
      if (!(Object.hasOwn(named, tag.name) && named[tag.name] === tag.value) && !hb.tags.values?.includes(tag.value)) return false;
    }
    if (group) {
      const groupKey = matchKey(a.tagsKey, hb.attributes, groupSelectors);
      let m = inGroup.get(groupKey);
      if (m === undefined) inGroup.set(groupKey, (m = groupMatches(group, hb.tags, hb.attributes)));
      if (!m) return false;
    }
    if (query.failed !== undefined && (a.pipelines.some((c) => c.status === ApplyStatus.FAILED) || a.instances.some((c) => c.status === ApplyStatus.FAILED)) !== query.failed) return false;
    if (query.late !== undefined && isLate(a, now) !== query.late) return false;
    if (config && query.configState !== undefined) {
      const key = `${hb.protocol}${state.matchKey(a.tagsKey, hb.attributes)}`;
      let t = targeted.get(key);
      if (t === undefined) targeted.set(key, (t = targets(config, hb.protocol, appliedList(state.applied(a.tagsKey, hb.tags, hb.attributes), "pipeline", hb.protocol))));
      if (!t || standing(hb.protocol, findReport(a.pipelines, config.name), config.version) !== query.configState) return false;
    }
    return true;
  };
}
