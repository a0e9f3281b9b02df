import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { configserver } from "../../src/gen/proto.js";

const u = configserver.proto.v1user;
const { ACCEPT, INVALID_PARAMETER } = configserver.proto.v1.RespCode;
export const { PIPELINE_CONFIG, AGENT_CONFIG } = configserver.proto.v1.ConfigType;

export interface CommunityConfig {
  readonly type?: number;
  readonly name: string;
  readonly version: number;
  readonly context?: string;
  readonly detail: string;
}

export interface CommunityGroup {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly { name: string; value: string }[];
  readonly applied: readonly string[];
}

export interface CommunityServer {
  readonly url: string;
  /** Requests as received: "METHOD /path". */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A test double of the community ConfigServer's User API (the Go server under config_server/service
 * in the ilogtail repository, which cannot run here): it stands in for that server in import tests,
 * serving its protobuf messages (proto/user_v1.proto) over node:http with the facts of that server
 * that `import` relies on: reads are POST routes (gin answers anything else with a plain-text
 * `404 page not found`), answers carry `response_id`, a RespCode (ACCEPT, absent on the wire, on
 * success) and a message, the `default` group always exists, configs are v1 ConfigDetails (type,
 * name, version counted from 0 per config, context, detail), bindings live in the group. Only the
 * reads import makes are served.
 */
export async function startCommunityServer(configs: readonly CommunityConfig[], groups: readonly CommunityGroup[]): Promise<CommunityServer> {
  const requests: string[] = [];
  const allGroups = groups.some((g) => g.name === "default") ? groups : [{ name: "default", description: "Default agent group, include all Agents.", applied: [] }, ...groups];
  const routes: Record<string, (body: Buffer) => { status: number; bytes: Uint8Array }> = {
    "/User/ListAgentGroups": (body) => {
      const q = u.ListAgentGroupsRequest.decode(body);
      const agent_groups = allGroups.map((g) => ({ group_name: g.name, description: g.description ?? "", tags: [...(g.tags ?? [])] }));
      return { status: 200, bytes: u.ListAgentGroupsResponse.encode({ response_id: q.request_id, code: ACCEPT, message: "Get agent group list success", agent_groups }).finish() };
    },
    "/User/ListConfigs": (body) => {
      const q = u.ListConfigsRequest.decode(body);
      const config_details = configs.map((c) => ({ type: c.type ?? PIPELINE_CONFIG, name: c.name, version: c.version as never, context: c.context ?? "", detail: c.detail }));
      return { status: 200, bytes: u.ListConfigsResponse.encode({ response_id: q.request_id, code: ACCEPT, message: "Get config list success", config_details }).finish() };
    },
    "/User/GetAppliedConfigsForAgentGroup": (body) => {
      const q = u.GetAppliedConfigsForAgentGroupRequest.decode(body);
      const g = allGroups.find((x) => x.name === q.group_name);
      if (!q.group_name) return { status: 400, bytes: u.GetAppliedConfigsForAgentGroupResponse.encode({ response_id: q.request_id, code: INVALID_PARAMETER, message: "Need parameter GroupName." }).finish() };
      if (!g) return { status: 404, bytes: u.GetAppliedConfigsForAgentGroupResponse.encode({ response_id: q.request_id, code: INVALID_PARAMETER, message: `Agent group ${q.group_name} doesn't exist.` }).finish() };
      return { status: 200, bytes: u.GetAppliedConfigsForAgentGroupResponse.encode({ response_id: q.request_id, code: ACCEPT, message: "Get agent group's applied configs success", config_names: [...g.applied] }).finish() };
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push(`${req.method} ${req.url}`);
      const route = req.method === "POST" ? routes[req.url ?? ""] : undefined;
      if (!route) {
        res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
        return;
      }
      const { status, bytes } = route(Buffer.concat(chunks));
      res.writeHead(status, { "content-type": "application/x-protobuf" }).end(Buffer.from(bytes));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
