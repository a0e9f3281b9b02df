import type { AgentTags } from "./agent.ts";
import { DEFAULT_GROUP, type GroupSpec } from "./types.ts";

/**
 * `default` matches every agent; any other group matches when any one of its tags equals the
 * agent's tag of that name. v1 agents send tag values without names: a group tag matches such an
 * agent when the agent has that value.
 */
export function groupMatches(group: GroupSpec, agentTags: AgentTags): boolean {
  if (group.name === DEFAULT_GROUP) return true;
  const { named, values } = agentTags;
  for (const tag of group.tags) {
    if (Object.hasOwn(named, tag.name) && named[tag.name] === tag.value) return true;
    if (values !== undefined && values.includes(tag.value)) return true;
  }
  return false;
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
