import { DEFAULT_GROUP, type GroupSpec } from "./types.ts";

/** `default` matches every agent; any other group matches when any one of its tags equals the agent's tag of that name. */
export function groupMatches(group: GroupSpec, agentTags: Readonly<Record<string, string>>): boolean {
  if (group.name === DEFAULT_GROUP) return true;
  for (const tag of group.tags) {
    if (Object.hasOwn(agentTags, tag.name) && agentTags[tag.name] === tag.value) return true;
  }
  return false;
}

/** A stable key for a tag set, so work per distinct tag set can be cached. */
export function tagsKey(tags: Readonly<Record<string, string>>): string {
  const names = Object.keys(tags).sort();
  return JSON.stringify(names.map((n) => [n, tags[n]]));
}
