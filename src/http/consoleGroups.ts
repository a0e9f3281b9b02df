import type { Context } from "koa";
import type { AgentRecord } from "../domain/agent.ts";
import { DomainError } from "../domain/errors.ts";
import { countGroupAgents, planReplaceGroup, type GroupCount } from "../domain/groupOps.ts";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import type { GroupSpec, Tag } from "../domain/types.ts";
import type { RepoStore } from "../store/repoStore.ts";
import { readJsonObject } from "./jsonRoute.ts";
import { writeOptions } from "./writeOptions.ts";

// The console's agent groups (consoleApi.ts routes them): each with its tags, configs and how many
// live agents it selects, and a group replaced in one commit.

export interface GroupRoutesDeps {
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
  readonly now: () => number;
}

/** Live agents of the fleet (with --registry redis://, every replica's: read from Redis). */
export async function liveAgents(registry: AgentRegistry): Promise<AgentRecord[]> {
  const all: AgentRecord[] = [];
  await registry.each((a) => all.push(a));
  return all;
}

export const groupJson = (g: GroupSpec, count: GroupCount | undefined) => ({
  name: g.name,
  description: g.description,
  tags: g.tags.map((t) => ({ name: t.name, value: t.value })),
  configs: g.configs,
  instanceConfigs: g.instanceConfigs ?? [],
  agents: count?.agents ?? 0,
  lateAgents: count?.late ?? 0,
});

/** A config's or group's name from a request, refused with the naming rule. */
export function validName(value: string | undefined, kind: "config" | "agent group"): string {
  if (!value || !isValidName(value)) throw new DomainError("InvalidParameter", nameRuleMessage(kind, value ?? ""));
  return value;
}

function strings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new DomainError("BadRequest", `Field ${field} must be a list of names (strings).`);
  return value as string[];
}

function tagList(value: unknown): Tag[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new DomainError("BadRequest", "Field tags must be a list of {name, value} objects.");
  return value.map((t: unknown, i) => {
    const tag = t as Record<string, unknown> | null;
    if (!tag || typeof tag !== "object" || typeof tag.name !== "string" || (tag.value !== undefined && typeof tag.value !== "string")) {
      throw new DomainError("BadRequest", `tags[${i}] must be an object {name: string, value: string}.`);
    }
    return { name: tag.name, value: (tag.value as string | undefined) ?? "" };
  });
}

/** GET /api/v1/groups */
export function listGroups({ store, registry, now }: GroupRoutesDeps) {
  return async () => {
    const agents = await liveAgents(registry);
    const state = store.state;
    const counts = countGroupAgents(state.sortedGroups, agents, now());
    return { message: "List agent groups success", servedCommit: state.commit || null, groups: state.sortedGroups.map((g) => groupJson(g, counts.get(g.name))) };
  };
}

/** GET /api/v1/groups/:name */
export function getGroup({ store, registry, now }: GroupRoutesDeps) {
  return async (ctx: Context) => {
    const agents = await liveAgents(registry);
    const state = store.state;
    const group = state.groups.get(validName(ctx.params.name, "agent group"));
    if (!group) throw new DomainError("AgentGroupNotExist", `Agent group ${ctx.params.name} doesn't exist.`);
    return { message: "Get agent group success", servedCommit: state.commit || null, ...groupJson(group, countGroupAgents([group], agents, now()).get(group.name)) };
  };
}

/** PUT /api/v1/groups/:name */
export function putGroup({ store }: Pick<GroupRoutesDeps, "store">) {
  return async (ctx: Context) => {
    const groupName = validName(ctx.params.name, "agent group");
    const body = await readJsonObject(ctx, 1024 * 1024, '{"description": "", "tags": [{"name": "env", "value": "prod"}], "configs": ["nginx-access"]}');
    const known = new Set(["groupName", "description", "tags", "configs", "instanceConfigs"]);
    for (const k of Object.keys(body)) if (!known.has(k)) throw new DomainError("BadRequest", `Unknown field ${JSON.stringify(k)}; a group has ${[...known].join(", ")}.`);
    if (body.groupName !== undefined && body.groupName !== groupName) throw new DomainError("InvalidParameter", `groupName ${JSON.stringify(body.groupName)} differs from the group in the path, ${groupName}.`);
    if (body.description !== undefined && typeof body.description !== "string") throw new DomainError("BadRequest", "Field description must be a string.");
    const input = {
      name: groupName,
      description: (body.description as string | undefined) ?? "",
      tags: tagList(body.tags),
      configs: body.configs === undefined ? [] : strings(body.configs, "configs"),
      instanceConfigs: body.instanceConfigs === undefined ? undefined : strings(body.instanceConfigs, "instanceConfigs"),
    };
    // Read before anything is planned: a malformed author or message is refused with nothing written.
    const options = writeOptions(ctx.req);
    const result = await store.write((state) => planReplaceGroup(state, input), options);
    const group = result.state.groups.get(groupName);
    return {
      message: result.commit ? `Saved agent group ${groupName}` : `Agent group ${groupName} already says this; nothing to commit`,
      commit: result.commit ?? null,
      ...(group ? { group: groupJson(group, undefined) } : {}),
    };
  };
}
