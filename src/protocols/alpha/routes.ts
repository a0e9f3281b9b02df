import { ApplyStatus, type ConfigReport } from "../../domain/agent.ts";
import { diffConfigList, UpdateStatus } from "../../domain/configList.ts";
import { DomainError } from "../../domain/errors.ts";
import { tagsKey } from "../../domain/matching.ts";
import type { ConfigRecord } from "../../domain/types.ts";
import { configserver } from "../../gen/proto.js";
import type { Reply, RouteSpec } from "../../http/route.ts";
import { int64, int64Text, servedState, type AgentDeps } from "../protocol.ts";
import { REPEATED } from "../../domain/registry.ts";
import { Repeats, stringField } from "../repeats.ts";
import { ALPHA_ENVELOPE } from "./envelope.ts";

const pb = configserver.proto;
type Int64 = Parameters<typeof int64>[0];

/**
 * The all-SAME GetConfigList answer per applied list (lists belong to a snapshot: they go with
 * it). Frozen, so its answer is encoded once (route.ts).
 */
const allSame = new WeakMap<readonly ConfigRecord[], Reply>();
/** The answer to an agent that holds nothing (every config NEW, with its content), per applied list. */
const allNew = new WeakMap<readonly ConfigRecord[], Reply>();
/** The report an agent that polls all-SAME makes: the applied list at its versions, once per list. */
const allReported = new WeakMap<readonly ConfigRecord[], readonly ConfigReport[]>();

const NO_REPORTS: readonly ConfigReport[] = Object.freeze([]);

function infosOf(updates: ReturnType<typeof diffConfigList>) {
  return updates.map((u) =>
    u.config
      ? { config_name: u.name, update_status: u.status, config_version: u.config.version, content: u.config.content }
      : { config_name: u.name, update_status: u.status },
  );
}

function agentId(id: string | null | undefined): string {
  if (!id) throw new DomainError("BadRequest", "Need parameter AgentID.");
  return id;
}

const EMPTY_EXTRAS: Readonly<Record<string, string>> = Object.freeze({});
// Replies that never change: frozen, so each is encoded once.
const HEARTBEAT_OK: Reply = Object.freeze({ message: "Send heartbeat success" });
const STATISTICS_OK: Reply = Object.freeze({ message: "Send running statistics success" });
const ALARM_OK: Reply = Object.freeze({ message: "Alarm success" });
const CONFIG_LIST_OK = "Get config update infos success";

/** The 4 alpha `/Agent/*` routes (PROTOCOL.md §4). They read only memory: the registry and the served state. */
export function alphaRoutes(deps: AgentDeps): RouteSpec<never>[] {
  const { registry, store } = deps;
  const envelope = ALPHA_ENVELOPE;
  const route = <Req>(spec: Omit<RouteSpec<Req>, "envelope" | "method">): RouteSpec<never> => ({ ...spec, method: "POST", envelope }) as unknown as RouteSpec<never>;
  // Agents repeat their heartbeat and their poll every few seconds (src/protocols/repeats.ts).
  const repeats = <Req extends { agent_id?: string | null }>(parts: number, applied: boolean) =>
    new Repeats<Req>({ registry, store, echo: "string", sequence: false, idField: 2, idText: stringField, parts, applied, idOf: (q) => q.agent_id ?? "", worth: () => true });

  return [
    route({
      path: "/Agent/HeartBeat", request: pb.HeartBeatRequest as never, response: pb.HeartBeatResponse as never,
      repeats: repeats<configserver.proto.HeartBeatRequest>(REPEATED.HEARTBEAT, false),
      handle: (q: configserver.proto.HeartBeatRequest) => {
        registry.heartbeat({
          agentId: agentId(q.agent_id),
          protocol: "alpha",
          attributes: { agentType: q.agent_type ?? "", version: q.agent_version ?? "", ip: q.ip ?? "", hostname: "", extras: EMPTY_EXTRAS },
          tags: { named: q.tags ?? {} },
          runningStatus: q.running_status ?? "",
          startupTime: int64(q.startup_time as Int64),
        });
        return HEARTBEAT_OK;
      },
    }),
    route({
      path: "/Agent/RunningStatistics", request: pb.RunningStatisticsRequest as never, response: pb.RunningStatisticsResponse as never,
      handle: (q: configserver.proto.RunningStatisticsRequest) => {
        const id = agentId(q.agent_id);
        const d = q.running_details;
        if (!d) throw new DomainError("BadRequest", "Need parameter running_details: the request has no RunningStatistics message in field running_details.");
        registry.statistics(id, { cpu: d.cpu ?? 0, memory: int64Text(d.memory as Int64), extras: { ...(d.extras ?? {}) } });
        return STATISTICS_OK;
      },
    }),
    route({
      path: "/Agent/Alarm", request: pb.AlarmRequest as never, response: pb.AlarmResponse as never,
      handle: (q: configserver.proto.AlarmRequest) => {
        registry.alarm(agentId(q.agent_id), q.type ?? "", q.detail ?? "");
        return ALARM_OK;
      },
    }),
    route({
      path: "/Agent/GetConfigList", request: pb.AgentGetConfigListRequest as never, response: pb.AgentGetConfigListResponse as never,
      // Frozen replies are given to a known agent (its report recorded); the unknown agent naming its tags gets a fresh one.
      repeats: repeats<configserver.proto.AgentGetConfigListRequest>(REPEATED.REPORTS, true),
      handle: (q: configserver.proto.AgentGetConfigListRequest) => {
        const id = agentId(q.agent_id);
        const agent = registry.get(id);
        if (!agent && !(q.tags && Object.keys(q.tags).length > 0)) throw new DomainError("AgentNotExist", `Agent ${id} doesn't exist.`);
        const state = servedState(store);
        let applied: readonly ConfigRecord[];
        if (agent?.heartbeat) applied = state.appliedConfigs(agent.tagsKey, agent.heartbeat.tags, agent.heartbeat.attributes, id);
        else {
          const tags = { named: q.tags ?? {} };
          applied = state.appliedConfigs(tagsKey(tags), tags, undefined, id);
        }
        const versions = q.config_versions ?? {};
        const names = Object.keys(versions);
        // The common poll: the agent already has exactly the applied versions. Its answer (all SAME)
        // and its report depend only on the applied list, so both are built once per list and snapshot.
        if (names.length === applied.length && applied.every((c) => Object.hasOwn(versions, c.name) && int64(versions[c.name] as Int64) === c.version)) {
          let same = allSame.get(applied);
          if (!same) allSame.set(applied, (same = Object.freeze({ message: CONFIG_LIST_OK, config_update_infos: applied.map((c) => ({ config_name: c.name, update_status: UpdateStatus.SAME })) })));
          let reported = allReported.get(applied);
          if (!reported) allReported.set(applied, (reported = Object.freeze(applied.map((c) => ({ name: c.name, version: c.version, status: ApplyStatus.UNSET, message: "" })))));
          if (agent) registry.reportConfigs(id, "pipeline", reported);
          return same;
        }
        if (names.length === 0) {
          if (agent) registry.reportConfigs(id, "pipeline", NO_REPORTS);
          let fresh = allNew.get(applied);
          if (!fresh) allNew.set(applied, (fresh = Object.freeze({ message: CONFIG_LIST_OK, config_update_infos: infosOf(diffConfigList(applied, new Map())) })));
          return fresh;
        }
        const reported = new Map<string, number>();
        for (const name of names) reported.set(name, int64(versions[name] as Int64));
        if (agent) registry.reportConfigs(id, "pipeline", [...reported].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, version]) => ({ name, version, status: ApplyStatus.UNSET, message: "" })));
        return { message: CONFIG_LIST_OK, config_update_infos: infosOf(diffConfigList(applied, reported)) };
      },
    }),
  ];
}
