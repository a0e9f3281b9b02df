import { request } from "node:http";
import { configserver } from "../../src/gen/proto.js";

export const pb = configserver.proto;

export interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP exchange over node:http (fetch refuses a body on GET); with `timeoutMs`, a request unanswered that long fails, as a real client's would. */
export function send(url: string, method: string, path: string, body: Uint8Array | string, headers: Record<string, string> = {}, timeoutMs?: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { "content-length": String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.end(body);
  });
}

interface Codec<T> {
  encode(m: object): { finish(): Uint8Array };
  decode(b: Uint8Array): T;
}

/** One protobuf call: encodes the request, decodes the route's response type whatever the status. */
export async function call<Res>(url: string, method: string, path: string, reqType: Codec<unknown>, resType: Codec<Res>, message: object = {}, headers: Record<string, string> = {}, timeoutMs?: number): Promise<{ status: number; headers: Raw["headers"]; body: Res }> {
  const raw = await send(url, method, path, reqType.encode(message).finish(), { "content-type": "application/x-protobuf", ...headers }, timeoutMs);
  return { status: raw.status, headers: raw.headers, body: resType.decode(raw.body) };
}

/** Typed shortcuts for every protocol route; `headers` go with every request (`connection: close`: a new connection each time). */
export function client(url: string, headers: Record<string, string> = {}, timeoutMs?: number) {
  const c = <Res>(method: string, path: string, req: Codec<unknown>, res: Codec<Res>) => (message: object = {}) => call(url, method, path, req, res, message, headers, timeoutMs);
  return {
    createGroup: c("POST", "/User/CreateAgentGroup", pb.CreateAgentGroupRequest, pb.CreateAgentGroupResponse),
    updateGroup: c("PUT", "/User/UpdateAgentGroup", pb.UpdateAgentGroupRequest, pb.UpdateAgentGroupResponse),
    deleteGroup: c("DELETE", "/User/DeleteAgentGroup", pb.DeleteAgentGroupRequest, pb.DeleteAgentGroupResponse),
    getGroup: c("GET", "/User/GetAgentGroup", pb.GetAgentGroupRequest, pb.GetAgentGroupResponse),
    listGroups: c("GET", "/User/ListAgentGroups", pb.ListAgentGroupsRequest, pb.ListAgentGroupsResponse),
    createConfig: c("POST", "/User/CreateConfig", pb.CreateConfigRequest, pb.CreateConfigResponse),
    updateConfig: c("PUT", "/User/UpdateConfig", pb.UpdateConfigRequest, pb.UpdateConfigResponse),
    deleteConfig: c("DELETE", "/User/DeleteConfig", pb.DeleteConfigRequest, pb.DeleteConfigResponse),
    getConfig: c("GET", "/User/GetConfig", pb.GetConfigRequest, pb.GetConfigResponse),
    listConfigs: c("GET", "/User/ListConfigs", pb.ListConfigsRequest, pb.ListConfigsResponse),
    apply: c("PUT", "/User/ApplyConfigToAgentGroup", pb.ApplyConfigToAgentGroupRequest, pb.ApplyConfigToAgentGroupResponse),
    remove: c("DELETE", "/User/RemoveConfigFromAgentGroup", pb.RemoveConfigFromAgentGroupRequest, pb.RemoveConfigFromAgentGroupResponse),
    appliedConfigs: c("GET", "/User/GetAppliedConfigsForAgentGroup", pb.GetAppliedConfigsForAgentGroupRequest, pb.GetAppliedConfigsForAgentGroupResponse),
    appliedGroups: c("GET", "/User/GetAppliedAgentGroups", pb.GetAppliedAgentGroupsRequest, pb.GetAppliedAgentGroupsResponse),
    listAgents: c("GET", "/User/ListAgents", pb.ListAgentsRequest, pb.ListAgentsResponse),
    heartbeat: c("POST", "/Agent/HeartBeat", pb.HeartBeatRequest, pb.HeartBeatResponse),
    statistics: c("POST", "/Agent/RunningStatistics", pb.RunningStatisticsRequest, pb.RunningStatisticsResponse),
    alarm: c("POST", "/Agent/Alarm", pb.AlarmRequest, pb.AlarmResponse),
    configList: c("POST", "/Agent/GetConfigList", pb.AgentGetConfigListRequest, pb.AgentGetConfigListResponse),
  };
}

export type Client = ReturnType<typeof client>;

/** Every route of the alpha protocol (proto/user.proto, proto/agent.proto) with its method, for tests that sweep all of them. */
export const ROUTES = [
  { method: "POST", path: "/User/CreateAgentGroup", req: pb.CreateAgentGroupRequest, res: pb.CreateAgentGroupResponse },
  { method: "PUT", path: "/User/UpdateAgentGroup", req: pb.UpdateAgentGroupRequest, res: pb.UpdateAgentGroupResponse },
  { method: "DELETE", path: "/User/DeleteAgentGroup", req: pb.DeleteAgentGroupRequest, res: pb.DeleteAgentGroupResponse },
  { method: "GET", path: "/User/GetAgentGroup", req: pb.GetAgentGroupRequest, res: pb.GetAgentGroupResponse },
  { method: "GET", path: "/User/ListAgentGroups", req: pb.ListAgentGroupsRequest, res: pb.ListAgentGroupsResponse },
  { method: "POST", path: "/User/CreateConfig", req: pb.CreateConfigRequest, res: pb.CreateConfigResponse },
  { method: "PUT", path: "/User/UpdateConfig", req: pb.UpdateConfigRequest, res: pb.UpdateConfigResponse },
  { method: "DELETE", path: "/User/DeleteConfig", req: pb.DeleteConfigRequest, res: pb.DeleteConfigResponse },
  { method: "GET", path: "/User/GetConfig", req: pb.GetConfigRequest, res: pb.GetConfigResponse },
  { method: "GET", path: "/User/ListConfigs", req: pb.ListConfigsRequest, res: pb.ListConfigsResponse },
  { method: "PUT", path: "/User/ApplyConfigToAgentGroup", req: pb.ApplyConfigToAgentGroupRequest, res: pb.ApplyConfigToAgentGroupResponse },
  { method: "DELETE", path: "/User/RemoveConfigFromAgentGroup", req: pb.RemoveConfigFromAgentGroupRequest, res: pb.RemoveConfigFromAgentGroupResponse },
  { method: "GET", path: "/User/GetAppliedConfigsForAgentGroup", req: pb.GetAppliedConfigsForAgentGroupRequest, res: pb.GetAppliedConfigsForAgentGroupResponse },
  { method: "GET", path: "/User/GetAppliedAgentGroups", req: pb.GetAppliedAgentGroupsRequest, res: pb.GetAppliedAgentGroupsResponse },
  { method: "GET", path: "/User/ListAgents", req: pb.ListAgentsRequest, res: pb.ListAgentsResponse },
  { method: "POST", path: "/Agent/HeartBeat", req: pb.HeartBeatRequest, res: pb.HeartBeatResponse },
  { method: "POST", path: "/Agent/RunningStatistics", req: pb.RunningStatisticsRequest, res: pb.RunningStatisticsResponse },
  { method: "POST", path: "/Agent/Alarm", req: pb.AlarmRequest, res: pb.AlarmResponse },
  { method: "POST", path: "/Agent/GetConfigList", req: pb.AgentGetConfigListRequest, res: pb.AgentGetConfigListResponse },
] as const;

/** One JSON call (`Content-Type: application/json`); the body is parsed as JSON whatever the status. */
export async function callJson(url: string, method: string, path: string, message: unknown = {}): Promise<{ status: number; headers: Raw["headers"]; body: Record<string, unknown> }> {
  const raw = await send(url, method, path, JSON.stringify(message), { "content-type": "application/json" });
  return { status: raw.status, headers: raw.headers, body: JSON.parse(raw.body.toString("utf8")) as Record<string, unknown> };
}

/** An int64 as decoded (Long, or number) → number; the versions tests use stay far below 2^53. */
export function num(v: { toNumber(): number } | number | string | null | undefined): number {
  return v == null ? 0 : typeof v === "object" ? v.toNumber() : Number(v);
}
