import { hostnameMatches, ipMatches, parseAddress } from "./addressMatch.ts";
import type { AgentTags } from "./agent.ts";
import { DEFAULT_GROUP, type GroupSpec, type Tag } from "./types.ts";

/** What an agent reports about where it runs (alpha: ip only; v1 and v2: ip and hostname; "" = not reported). */
export interface AgentAddress {
  readonly ip: string;
  readonly hostname: string;
}

/**
 * `default` matches every agent; any other group matches when any one of its tags equals the
 * agent's tag of that name, or (given the agent's address) any of its `ips` holds the agent's ip,
 * or any of its `hostnames` fits the agent's host name. v1 agents send tag values without names: a
 * group tag matches such an agent when the agent has that value.
 */
export function groupMatches(group: GroupSpec, agentTags: AgentTags, address?: AgentAddress): boolean {
  if (group.name === DEFAULT_GROUP) return true;
  if (tagsMatch(group.tags, agentTags)) return true;
  return address !== undefined && addressMatches(group, address);
}

/** Whether any one of `tags` is the agent's (by name and value; for v1 agents, by value). */
export function tagsMatch(tags: readonly Tag[], agentTags: AgentTags): boolean {
  const { named, values } = agentTags;
  for (const tag of tags) {
    if (Object.hasOwn(named, tag.name) && named[tag.name] === tag.value) return true;
    if (values !== undefined && values.includes(tag.value)) return true;
  }
  return false;
}

/** Whether a group's `ips` or `hostnames` select an agent at this address. */
function addressMatches(group: GroupSpec, address: AgentAddress): boolean {
  if (group.ips !== undefined && group.ips.length > 0 && address.ip !== "") {
    const parsed = parseAddress(address.ip);
    for (const s of group.ips) if (ipMatches(s, parsed)) return true;
  }
  if (group.hostnames !== undefined && address.hostname !== "") {
    for (const glob of group.hostnames) if (hostnameMatches(glob, address.hostname)) return true;
  }
  return false;
}

/** Whether any group selects agents by address or host name (the applied lists then depend on them). */
export function addressSelectorsIn(groups: Iterable<GroupSpec>): { readonly ip: boolean; readonly hostname: boolean } {
  let ip = false;
  let hostname = false;
  for (const g of groups) {
    if (g.ips !== undefined && g.ips.length > 0) ip = true;
    if (g.hostnames !== undefined && g.hostnames.length > 0) hostname = true;
  }
  return { ip, hostname };
}

/** Longest host name that can match (longer ones match no selector, like an unreported one). */
const MAX_HOSTNAME = 253;

/**
 * The key under which matching results for an agent can be cached: its tag set's key, plus its
 * address and host name only when some group selects by them (`selectors`), so a fleet without
 * such groups keeps one entry per tag set. Values that can match nothing (too long) key as "".
 */
export function matchKey(tagsKey: string, address: AgentAddress | undefined, selectors: { readonly ip: boolean; readonly hostname: boolean }): string {
  if (address === undefined || (!selectors.ip && !selectors.hostname)) return tagsKey;
  const ip = selectors.ip && address.ip.length <= 64 ? address.ip : "";
  const host = selectors.hostname && address.hostname.length <= MAX_HOSTNAME ? address.hostname.toLowerCase() : "";
  return `${tagsKey}\u0001${ip}\u0001${host}`;
}

/** A stable key for a tag set, so work per distinct tag set can be cached. */
export function tagsKey(tags: AgentTags): string {
  const { named, values } = tags;
  const names = Object.keys(named).sort();
  const key = JSON.stringify(names.map((n) => [n, named[n]]));
  return values === undefined ? key : `${key}${JSON.stringify([...values].sort())}`;
}

/** Whether two tag sets are equal (same names and values; v1 values in the same order). */
export function sameTags(a: AgentTags, b: AgentTags): boolean {
  if (a === b) return true;
  // Counted, not listed: this runs on every heartbeat, and Object.keys makes an array each time.
  let na = 0;
  for (const k in a.named) {
    if (!Object.hasOwn(a.named, k)) continue;
    na++;
    if (a.named[k] !== b.named[k] || !Object.hasOwn(b.named, k)) return false;
  }
  let nb = 0;
  for (const k in b.named) if (Object.hasOwn(b.named, k)) nb++;
  if (na !== nb) return false;
  const va = a.values;
  const vb = b.values;
  if (va === undefined || vb === undefined) return va === vb;
  if (va.length !== vb.length) return false;
  for (let i = 0; i < va.length; i++) if (va[i] !== vb[i]) return false;
  return true;
}
