import type { IncomingMessage } from "node:http";
import { runningDetails, type AgentRecord, type AgentTags } from "../../domain/agent.ts";
import { DomainError } from "../../domain/errors.ts";
import { addressSelectorsIn, groupMatches, matchKey } from "../../domain/matching.ts";
import type { AgentRegistry } from "../../domain/registry.ts";
import type { ConfigSpec, GroupSpec } from "../../domain/types.ts";
import * as ops from "../../domain/userOps.ts";
import { configserver } from "../../gen/proto.js";
import { writeOptions } from "../../http/writeOptions.ts";
import { contentChecker } from "../../store/contentCheck.ts";
import type { RepoStore } from "../../store/repoStore.ts";
import type { MessageType } from "../codec.ts";
import { LONG_LIST, messageRoute, yieldToEventLoop, type AnyRoute, type Method, type Replied } from "../routeContract.ts";
import { USER_ENVELOPE } from "./envelope.ts";

const pb = configserver.proto;

export interface UserApi {
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
}

type NullableGroup = configserver.proto.AgentGroup.$Properties | null | undefined;
type NullableConfig = configserver.proto.Config.$Properties | null | undefined;

function required<T>(value: T | null | undefined, field: string, type: string): T {
  if (value === null || value === undefined) throw new DomainError("BadRequest", `Need parameter ${field}: the request has no ${type} message in field ${field}.`);
  return value;
}

function groupInput(g: NullableGroup): ops.GroupInput {
  const group = required(g, "agent_group", "AgentGroup");
  return {
    name: group.group_name ?? "",
    description: group.description ?? "",
    tags: (group.tags ?? []).map((t) => ({ name: t.name ?? "", value: t.value ?? "" })),
  };
}

function configInput(c: NullableConfig): ConfigSpec {
  const config = required(c, "config_detail", "Config");
  return { name: config.config_name ?? "", agentType: config.agent_type ?? "", description: config.description ?? "", content: config.content ?? "" };
}

export const groupMessage = (g: GroupSpec) => ({ group_name: g.name, description: g.description, tags: g.tags.map((t) => ({ name: t.name, value: t.value })) });
export const configMessage = (c: ConfigSpec) => ({ config_name: c.name, agent_type: c.agentType, description: c.description, content: c.content });

/**
 * An agent's tags as ListAgents' map shows them. v1 agents send values without names: each value
 * is shown as a name with an empty value.
 */
export function tagMap(tags: AgentTags | undefined): Record<string, string> {
  if (!tags) return {};
  const out: Record<string, string> = { ...tags.named };
  for (const v of tags.values ?? []) if (!Object.hasOwn(out, v)) out[v] = "";
  return out;
}

export function agentMessage(a: AgentRecord) {
  const hb = a.heartbeat;
  return {
    agent_id: a.agentId,
    agent_type: hb?.attributes.agentType ?? "",
    ip: hb?.attributes.ip ?? "",
    version: hb?.attributes.version ?? "",
    running_status: hb?.runningStatus ?? "",
    startup_time: hb?.startupTime ?? 0,
    latest_heartbeat_time: a.latestHeartbeatTime,
    tags: tagMap(hb?.tags),
    running_details: runningDetails(a.statistics),
  };
}

/**
 * The 15 `/User/*` routes of the alpha protocol (proto/user.proto): message routes like the
 * agents' (the same compiler, the alpha envelope), served by HTTP beside the JSON API. Their
 * checks and messages are in src/domain/userOps.ts.
 */
export function userRoutes(api: UserApi): AnyRoute[] {
  const { store } = api;
  const routes: AnyRoute[] = [];
  // The headers are read before the plan: a malformed author is refused before any work.
  const write = async (req: IncomingMessage, plan: (s: typeof store.state) => ops.WritePlan, message: string): Promise<Replied> => {
    await store.write(plan, writeOptions(req));
    return { message };
  };
  const r = <Req>(method: Method, path: string, request: MessageType<Req>, response: MessageType<unknown>, handle: (q: Req, req: IncomingMessage) => Replied | Promise<Replied>) => {
    routes.push(messageRoute<Req>({ method, path, request, response, envelope: USER_ENVELOPE, handle, query: true }));
  };

  r("POST", "/User/CreateAgentGroup", pb.CreateAgentGroupRequest, pb.CreateAgentGroupResponse, (q, req) => {
    const input = groupInput(q.agent_group);
    return write(req, (s) => ops.planCreateGroup(s, input), "Add agent group success");
  });
  r("PUT", "/User/UpdateAgentGroup", pb.UpdateAgentGroupRequest, pb.UpdateAgentGroupResponse, (q, req) => {
    const input = groupInput(q.agent_group);
    return write(req, (s) => ops.planUpdateGroup(s, input), "Update agent group success");
  });
  r("DELETE", "/User/DeleteAgentGroup", pb.DeleteAgentGroupRequest, pb.DeleteAgentGroupResponse, (q, req) =>
    write(req, (s) => ops.planDeleteGroup(s, q.group_name ?? ""), "Delete agent group success"),
  );
  r("GET", "/User/GetAgentGroup", pb.GetAgentGroupRequest, pb.GetAgentGroupResponse, (q) => ({
    message: "Get agent group success",
    agent_group: groupMessage(ops.getGroup(store.state, q.group_name ?? "")),
  }));
  r("GET", "/User/ListAgentGroups", pb.ListAgentGroupsRequest, pb.ListAgentGroupsResponse, () => ({
    message: "Get agent group list success",
    agent_groups: store.state.sortedGroups.map(groupMessage),
  }));

  r("POST", "/User/CreateConfig", pb.CreateConfigRequest, pb.CreateConfigResponse, (q, req) => {
    const input = configInput(q.config_detail);
    return write(req, (s) => ops.planCreateConfig(s, input, contentChecker(store.contentLimits)), "Add config success");
  });
  r("PUT", "/User/UpdateConfig", pb.UpdateConfigRequest, pb.UpdateConfigResponse, (q, req) => {
    const input = configInput(q.config_detail);
    return write(req, (s) => ops.planUpdateConfig(s, input, contentChecker(store.contentLimits)), "Update config success");
  });
  r("DELETE", "/User/DeleteConfig", pb.DeleteConfigRequest, pb.DeleteConfigResponse, (q, req) =>
    write(req, (s) => ops.planDeleteConfig(s, q.config_name ?? ""), "Delete config success"),
  );
  r("GET", "/User/GetConfig", pb.GetConfigRequest, pb.GetConfigResponse, (q) => ({
    message: "Get config success",
    config_detail: configMessage(ops.getConfig(store.state, q.config_name ?? "")),
  }));
  r("GET", "/User/ListConfigs", pb.ListConfigsRequest, pb.ListConfigsResponse, () => ({
    message: "Get config list success",
    config_details: store.state.sortedConfigs.map(configMessage),
  }));

  r("PUT", "/User/ApplyConfigToAgentGroup", pb.ApplyConfigToAgentGroupRequest, pb.ApplyConfigToAgentGroupResponse, (q, req) =>
    write(req, (s) => ops.planApplyConfig(s, q.group_name ?? "", q.config_name ?? ""), "Add config to agent group success"),
  );
  r("DELETE", "/User/RemoveConfigFromAgentGroup", pb.RemoveConfigFromAgentGroupRequest, pb.RemoveConfigFromAgentGroupResponse, (q, req) =>
    write(req, (s) => ops.planRemoveConfig(s, q.group_name ?? "", q.config_name ?? ""), "Remove config from agent group success"),
  );
  r("GET", "/User/GetAppliedConfigsForAgentGroup", pb.GetAppliedConfigsForAgentGroupRequest, pb.GetAppliedConfigsForAgentGroupResponse, (q) => ({
    message: "Get agent group's applied configs success",
    config_names: [...ops.appliedConfigsOf(store.state, q.group_name ?? "")],
  }));
  r("GET", "/User/GetAppliedAgentGroups", pb.GetAppliedAgentGroupsRequest, pb.GetAppliedAgentGroupsResponse, (q) => ({
    message: "Get group list success",
    agent_group_names: ops.groupsApplying(store.state, q.config_name ?? ""),
  }));
  r("GET", "/User/ListAgents", pb.ListAgentsRequest, pb.ListAgentsResponse, async (q) => {
    const group = ops.groupForListing(store.state, q.group_name ?? "");
    // A fleet can be 200,000 agents: the answer is built and encoded in slices, so heartbeats
    // arriving meanwhile are not held up for the whole listing.
    const all = await api.registry.list();
    const matches = new Map<string, boolean>();
    const selectors = addressSelectorsIn([group]);
    const agents: ReturnType<typeof agentMessage>[] = [];
    for (let i = 0; i < all.length; i++) {
      if (i > 0 && i % 5000 === 0) await yieldToEventLoop();
      const a = all[i] as AgentRecord;
      const hb = a.heartbeat;
      if (!hb) continue;
      const key = matchKey(a.tagsKey, hb.attributes, selectors);
      let m = matches.get(key);
      if (m === undefined) matches.set(key, (m = groupMatches(group, hb.tags, hb.attributes)));
      if (m) agents.push(agentMessage(a));
    }
    return { message: "Get agent list success", [LONG_LIST]: { field: "agents", items: agents } };
  });
  return routes;
}
