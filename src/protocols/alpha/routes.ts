import { ApplyStatus, type ConfigReport } from "../../domain/agent.ts";
import { diffConfigList, UpdateStatus } from "../../domain/configList.ts";
import { checkAlarm, checkConfigCount, checkExtras, checkNamedTags } from "../../domain/agentLimits.ts";
import { DomainError } from "../../domain/errors.ts";
import { tagsKey } from "../../domain/matching.ts";
import type { ConfigRecord } from "../../domain/types.ts";
import { configserver } from "../../gen/proto.js";
import { cacheable, type CacheableReply } from "../answerCache.ts";
import { int64, int64Text, servedState, type AgentDeps, type AgentRoutes } from "../protocol.ts";
import { REPEATED } from "../../domain/registry.ts";
import { Repeats } from "../repeats.ts";
import { stringField } from "../wire.ts";
import { agentRoute } from "../routeContract.ts";
import { ALPHA_ENVELOPE } from "./envelope.ts";
import { agentId } from "../agentId.ts";

const pb = configserver.proto;
type Int64 = Parameters<typeof int64>[0];

/**
 * The all-SAME GetConfigList reply per applied list (lists belong to a snapshot: they go with
 * it). Cacheable: its answer is encoded once (answerCache.ts).
 */
const allSame = new WeakMap<readonly ConfigRecord[], CacheableReply>();
/** The reply to an agent that holds nothing (every config NEW, with its content), per applied list. */
const allNew = new WeakMap<readonly ConfigRecord[], CacheableReply>();
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

const EMPTY_EXTRAS: Readonly<Record<string, string>> = Object.freeze({});
// Replies that never change: each answer is encoded once.
const HEARTBEAT_OK = cacheable({ message: "Send heartbeat success" });
const STATISTICS_OK = cacheable({ message: "Send running statistics success" });
const ALARM_OK = cacheable({ message: "Alarm success" });
const CONFIG_LIST_OK = "Get config update infos success";

/** The 4 alpha `/Agent/*` routes. They read only memory: the registry and the served state. */
export function alphaRoutes(deps: AgentDeps): AgentRoutes {
  const { registry, store } = deps;
  // Agents repeat their heartbeat and their poll every few seconds (src/protocols/repeats.ts).
  const repeats = <Req extends { agent_id?: string | null }>(parts: number, applied: boolean) =>
    new Repeats<Req>({ registry, store, echo: "string", sequence: false, idField: 2, idText: stringField, parts, applied, idOf: (q) => q.agent_id ?? "", worth: () => true });

  return [
    agentRoute(ALPHA_ENVELOPE, {
      path: "/Agent/HeartBeat", request: pb.HeartBeatRequest, response: pb.HeartBeatResponse,
      repeats: repeats<configserver.proto.HeartBeatRequest>(REPEATED.HEARTBEAT, false),
      handle: (q: configserver.proto.HeartBeatRequest) => {
        checkNamedTags(q.tags ?? {});
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
    agentRoute(ALPHA_ENVELOPE, {
      path: "/Agent/RunningStatistics", request: pb.RunningStatisticsRequest, response: pb.RunningStatisticsResponse,
      handle: (q: configserver.proto.RunningStatisticsRequest) => {
        const id = agentId(q.agent_id);
        const d = q.running_details;
        if (!d) throw new DomainError("BadRequest", "Need parameter running_details: the request has no RunningStatistics message in field running_details.");
        checkExtras(d.extras, "running_details.extras");
        registry.statistics(id, { cpu: d.cpu ?? 0, memory: int64Text(d.memory as Int64), extras: { ...(d.extras ?? {}) } });
        return STATISTICS_OK;
      },
    }),
    agentRoute(ALPHA_ENVELOPE, {
      path: "/Agent/Alarm", request: pb.AlarmRequest, response: pb.AlarmResponse,
      handle: (q: configserver.proto.AlarmRequest) => {
        checkAlarm(q.type ?? "", q.detail ?? "");
        registry.alarm(agentId(q.agent_id), q.type ?? "", q.detail ?? "");
        return ALARM_OK;
      },
    }),
    agentRoute(ALPHA_ENVELOPE, {
      path: "/Agent/GetConfigList", request: pb.AgentGetConfigListRequest, response: pb.AgentGetConfigListResponse,
      // Cacheable replies are given to a known agent (its report recorded); the unknown agent naming its tags gets a fresh one.
      repeats: repeats<configserver.proto.AgentGetConfigListRequest>(REPEATED.REPORTS, true),
      handle: (q: configserver.proto.AgentGetConfigListRequest) => {
        const id = agentId(q.agent_id);
        checkNamedTags(q.tags ?? {});
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
        checkConfigCount(names.length, "config_versions");
        // The common poll: the agent already has exactly the applied versions. Its answer (all SAME)
        // and its report depend only on the applied list, so both are built once per list and snapshot.
        if (names.length === applied.length && applied.every((c) => Object.hasOwn(versions, c.name) && int64(versions[c.name] as Int64) === c.version)) {
          let same = allSame.get(applied);
          if (!same) allSame.set(applied, (same = cacheable({ message: CONFIG_LIST_OK, config_update_infos: applied.map((c) => ({ config_name: c.name, update_status: UpdateStatus.SAME })) })));
          let reported = allReported.get(applied);
          if (!reported) allReported.set(applied, (reported = Object.freeze(applied.map((c) => ({ name: c.name, version: c.version, status: ApplyStatus.UNSET, message: "" })))));
          if (agent) registry.reportConfigs(id, "pipeline", reported);
          return same;
        }
        if (names.length === 0) {
          if (agent) registry.reportConfigs(id, "pipeline", NO_REPORTS);
          let fresh = allNew.get(applied);
          if (!fresh) allNew.set(applied, (fresh = cacheable({ message: CONFIG_LIST_OK, config_update_infos: infosOf(diffConfigList(applied, new Map())) })));
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
