import type Router from "@koa/router";
import type { AgentRegistry } from "../agents/agentRegistry.ts";
import { diffConfigList, UpdateStatus } from "../domain/configList.ts";
import { DomainError } from "../domain/errors.ts";
import { tagsKey } from "../domain/matching.ts";
import type { ConfigRecord } from "../domain/types.ts";
import { configserver } from "../gen/proto.js";
import type { RepoStore } from "../store/repoStore.ts";
import { addRoute, type RouteOptions } from "./route.ts";

const pb = configserver.proto;

/** All-SAME GetConfigList entries per applied list (lists belong to a snapshot: they go with it). */
const allSame = new WeakMap<readonly ConfigRecord[], readonly { config_name: string; update_status: number }[]>();

export interface AgentApi {
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
}

type Int64 = { toNumber(): number } | number | string | null | undefined;
const int64 = (v: Int64): number => (v == null ? 0 : typeof v === "object" ? v.toNumber() : Number(v));
// Memory is only ever printed: keep every digit of an int64 rather than round through a double.
const int64Text = (v: Int64): string => (v == null ? "0" : String(v));

function agentId(id: string | null | undefined): string {
  if (!id) throw new DomainError("BadRequest", "Need parameter AgentID.");
  return id;
}

/** The 4 `/Agent/*` routes. This path reads only memory: the registry and the served state. */
export function addAgentRoutes(router: Router, api: AgentApi, options: RouteOptions): void {
  const { registry, store } = api;

  addRoute(router, {
    method: "POST", path: "/Agent/HeartBeat", request: pb.HeartBeatRequest as never, response: pb.HeartBeatResponse as never,
    handle: (q: configserver.proto.HeartBeatRequest) => {
      registry.heartbeat({
        agentId: agentId(q.agent_id),
        agentType: q.agent_type ?? "",
        agentVersion: q.agent_version ?? "",
        ip: q.ip ?? "",
        tags: q.tags ?? {},
        runningStatus: q.running_status ?? "",
        startupTime: int64(q.startup_time),
      });
      return { message: "Send heartbeat success" };
    },
  }, options);

  addRoute(router, {
    method: "POST", path: "/Agent/RunningStatistics", request: pb.RunningStatisticsRequest as never, response: pb.RunningStatisticsResponse as never,
    handle: (q: configserver.proto.RunningStatisticsRequest) => {
      const id = agentId(q.agent_id);
      const d = q.running_details;
      if (!d) throw new DomainError("BadRequest", "Need parameter running_details: the request has no RunningStatistics message in field running_details.");
      registry.statistics(id, { cpu: d.cpu ?? 0, memory: int64Text(d.memory as Int64), extras: { ...(d.extras ?? {}) } });
      return { message: "Send running statistics success" };
    },
  }, options);

  addRoute(router, {
    method: "POST", path: "/Agent/Alarm", request: pb.AlarmRequest as never, response: pb.AlarmResponse as never,
    handle: (q: configserver.proto.AlarmRequest) => {
      registry.alarm(agentId(q.agent_id), q.type ?? "", q.detail ?? "");
      return { message: "Alarm success" };
    },
  }, options);

  addRoute(router, {
    method: "POST", path: "/Agent/GetConfigList", request: pb.AgentGetConfigListRequest as never, response: pb.AgentGetConfigListResponse as never,
    handle: (q: configserver.proto.AgentGetConfigListRequest) => {
      const id = agentId(q.agent_id);
      const agent = registry.get(id);
      let applied;
      if (agent?.heartbeat) applied = store.state.appliedConfigs(agent.tagsKey, agent.heartbeat.tags);
      else if (q.tags && Object.keys(q.tags).length > 0) applied = store.state.appliedConfigs(tagsKey(q.tags), q.tags);
      else throw new DomainError("AgentNotExist", `Agent ${id} doesn't exist.`);
      const reported = new Map<string, number>();
      const versions = q.config_versions ?? {};
      for (const name in versions) reported.set(name, int64(versions[name] as Int64));
      // The common poll: the agent already has exactly the applied versions. Its answer (all SAME)
      // depends only on the applied list, so its entries are built once per list and snapshot.
      if (reported.size === applied.length && applied.every((c) => reported.get(c.name) === c.version)) {
        let same = allSame.get(applied);
        if (!same) allSame.set(applied, (same = applied.map((c) => ({ config_name: c.name, update_status: UpdateStatus.SAME }))));
        return { message: "Get config update infos success", config_update_infos: same };
      }
      const infos = diffConfigList(applied, reported).map((u) =>
        u.config
          ? { config_name: u.name, update_status: u.status, config_version: u.config.version, content: u.config.content }
          : { config_name: u.name, update_status: u.status },
      );
      return { message: "Get config update infos success", config_update_infos: infos };
    },
  }, options);
}
