import { ApplyStatus, type AgentRecord, type ConfigKind, type ConfigReport } from "../../domain/agent.ts";
import { changesFor } from "../../domain/agentChanges.ts";
import { checkConfigCount, checkExtras, checkTagList } from "../../domain/agentLimits.ts";
import { DomainError } from "../../domain/errors.ts";
import type { RepoState } from "../../domain/repoState.ts";
import type { ConfigRecord, InstanceConfigRecord } from "../../domain/types.ts";
import { configserver } from "../../gen/proto.js";
import { cacheable } from "../answerCache.ts";
import { int64, servedState, type AgentDeps, type AgentRoutes } from "../protocol.ts";
import { REPEATED } from "../../domain/registry.ts";
import { Repeats } from "../repeats.ts";
import { stringField } from "../wire.ts";
import { agentRoute, type Replied, type Reply } from "../routeContract.ts";
import { V1_ENVELOPE } from "./envelope.ts";
import { byName } from "../../domain/names.ts";
import { agentId } from "../agentId.ts";
import { sameReports } from "../../domain/sameReports.ts";

const pb = configserver.proto.v1;
const { PIPELINE_CONFIG, AGENT_CONFIG } = pb.ConfigType;
const { NEW, DELETED, MODIFIED } = pb.CheckStatus;

type Served = ConfigRecord | InstanceConfigRecord;
type Info = configserver.proto.v1.IConfigInfo;
type Int64 = Parameters<typeof int64>[0];

interface CheckResult {
  readonly type: number;
  readonly name: string;
  readonly old_version: number;
  readonly new_version: number;
  readonly check_status: number;
}

const NONE: readonly CheckResult[] = Object.freeze([]);
const HEARTBEAT_OK = "Send heartbeat success";
/** The common heartbeat's reply: cacheable, its answer encoded once (answerCache.ts). */
const NOTHING_CHANGED = cacheable({ message: HEARTBEAT_OK, pipeline_check_results: NONE, agent_check_results: NONE });
const NO_NAMES: Readonly<Record<string, string>> = Object.freeze({});
const NO_EXTRAS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Per applied list (lists belong to a snapshot and are cached per tag set: they go with it): each
 * config's position, the report of an agent holding exactly that list, and marks for the check.
 */
interface ListIndex {
  readonly at: ReadonlyMap<string, number>;
  readonly report: readonly ConfigReport[];
  readonly seen: Uint32Array;
  /**
   * The registry's own copy of `report` (it keeps one list per distinct report): passing that
   * very array back lets it see "unchanged" without comparing every entry.
   */
  held?: readonly ConfigReport[];
}
/** One server's list indexes, and the mark of its last `holdsExactly` (per server: nothing shared between servers in one process). */
class ListIndexes {
  private readonly indexes = new WeakMap<readonly Served[], ListIndex>();
  private mark = 0;

  of(list: readonly Served[]): ListIndex {
    let ix = this.indexes.get(list);
    if (ix === undefined) {
      ix = {
        at: new Map(list.map((c, i) => [c.name, i])),
        report: Object.freeze(list.map((c) => Object.freeze({ name: c.name, version: c.version, status: ApplyStatus.UNSET, message: "" }))),
        seen: new Uint32Array(list.length),
      };
      this.indexes.set(list, ix);
    }
    return ix;
  }

  /**
   * Whether the agent holds exactly `list` at the served versions: each reported once, in any order
   * (the agent keeps its configs in a hash map). The common heartbeat: it allocates nothing.
   */
  holdsExactly(infos: readonly Info[], list: readonly Served[], ix: ListIndex): boolean {
    if (infos.length !== list.length) return false;
    const mark = (this.mark = (this.mark + 1) >>> 0 || 1);
    for (const x of infos) {
      const i = ix.at.get(x.name ?? "");
      if (i === undefined || ix.seen[i] === mark || int64(x.version as Int64) !== (list[i] as Served).version) return false;
      ix.seen[i] = mark;
    }
    return true;
  }
}

/** Refuses a reported or requested config without a name, before anything is stored. */
function named(infos: readonly Info[], field: string, hint = ""): void {
  for (let i = 0; i < infos.length; i++) {
    if (!infos[i]?.name) throw new DomainError("BadRequest", `Every ConfigInfo needs a name: ${field}[${i}] has none${hint}.`);
  }
}

/** v1 attributes beyond version, ip and hostname, kept as the record's extras. */
function extrasOf(a: configserver.proto.v1.IAgentAttributes | null | undefined): Readonly<Record<string, string>> {
  if (!a) return NO_EXTRAS;
  let any = !!(a.category || a.region || a.zone);
  for (const _ in a.extras ?? {}) {
    any = true;
    break;
  }
  if (!any) return NO_EXTRAS;
  const out: Record<string, string> = { ...(a.extras ?? {}) };
  if (a.category) out.category = a.category;
  if (a.region) out.region = a.region;
  if (a.zone) out.zone = a.zone;
  return out;
}

/** The 3 v1 routes (docs/protocols/v1.md). They read only memory: the registry and the served snapshot. */
export function v1Routes(deps: AgentDeps): AgentRoutes {
  const { registry, store } = deps;
  const lists = new ListIndexes();

  /**
   * The check results of one kind: only what changed. Records the agent's report of that kind
   * (sorted by name, as the registry wants it; the prebuilt one when it holds exactly the list).
   */
  const check = (record: AgentRecord, kind: ConfigKind, infos: readonly Info[], list: readonly Served[]): readonly CheckResult[] => {
    const id = record.agentId;
    // The Legacy agent never reports agent configs: with none applied either, there is nothing to
    // record (the pipeline report already stamped the time).
    if (kind === "instance" && list.length === 0 && infos.length === 0 && record.instances.length === 0) return NONE;
    const ix = lists.of(list);
    if (lists.holdsExactly(infos, list, ix)) {
      const before = kind === "pipeline" ? record.pipelines : record.instances;
      registry.reportConfigs(id, kind, before === ix.held ? before : ix.report);
      if (before !== ix.held) {
        // Adopted only when it is the same list (a registry may answer with a copy, or later).
        const now = kind === "pipeline" ? record.pipelines : record.instances;
        if (sameReports(now, ix.report)) ix.held = now;
      }
      return NONE;
    }
    const versions = new Map<string, number>();
    for (const x of infos) versions.set(x.name as string, int64(x.version as Int64));
    const reports: ConfigReport[] = [];
    for (const [name, version] of versions) reports.push({ name, version, status: ApplyStatus.UNSET, message: "" });
    reports.sort(byName);
    registry.reportConfigs(id, kind, reports);
    const changes = changesFor(list, reports);
    const type = kind === "pipeline" ? PIPELINE_CONFIG : AGENT_CONFIG;
    const out: CheckResult[] = [];
    for (const c of changes.updates) {
      const old = versions.get(c.name);
      out.push({ type, name: c.name, old_version: old ?? 0, new_version: c.version, check_status: old === undefined ? NEW : MODIFIED });
    }
    // As the community server answers: a deleted config's old and new version are the reported one.
    for (const r of changes.removed) out.push({ type, name: r.name, old_version: r.version, new_version: r.version, check_status: DELETED });
    if (changes.updates.length > 0 && changes.removed.length > 0) out.sort(byName);
    return out;
  };

  /**
   * FetchPipelineConfig / FetchAgentConfig: each named config applied to the agent's groups, with
   * its content as written; a name applied to none of them is left out (an agent reads only what
   * its groups select). The agent is looked up by `agent_id`; one whose heartbeat reached another
   * replica is read from the shared registry. The agent writes an empty file for a config it asked
   * for and did not get (docs/protocols/v1.md): a config that stopped applying between the
   * heartbeat and the fetch is then answered DELETED by the next heartbeat.
   */
  const fetch = (type: number, kind: ConfigKind, agent: string | null | undefined, wanted: readonly Info[], hint: string): Reply | Promise<Reply> => {
    // An empty request gets the request id alone: the one answer a v2 agent sending an empty
    // FetchConfigRequest to the shared path also reads as an empty success (detection.md).
    if (wanted.length === 0) return {};
    named(wanted, "req_configs", hint);
    checkConfigCount(wanted.length, "req_configs");
    const id = agentId(agent);
    const state = servedState(store);
    const record = registry.get(id);
    if (record !== undefined) return details(type, kind, state, record, wanted);
    return registry.find(id).then((found) => {
      if (!found?.heartbeat) throw new DomainError("AgentNotExist", `Agent ${id} doesn't exist: send a heartbeat first.`);
      return details(type, kind, servedState(store), found, wanted);
    });
  };
  const details = (type: number, kind: ConfigKind, state: RepoState, record: AgentRecord, wanted: readonly Info[]): Reply => {
    const heartbeat = record.heartbeat as NonNullable<AgentRecord["heartbeat"]>;
    const applied = state.applied(record.tagsKey, heartbeat.tags, heartbeat.attributes, record.agentId);
    const list: readonly Served[] = kind === "pipeline" ? applied.configs : applied.instances;
    const ix = lists.of(list);
    const out: { type: number; name: string; version: number; detail: string }[] = [];
    const missing: string[] = [];
    const done = new Set<string>();
    for (const w of wanted) {
      const name = w.name as string;
      if (done.has(name)) continue;
      done.add(name);
      const i = ix.at.get(name);
      // Only what applies to the agent; at the version it was told when a rollout may still serve
      // it a past one, else the one its groups get now.
      const c = i === undefined ? undefined : ((state.recordAt(type === PIPELINE_CONFIG ? "pipeline" : "instance", name, int64(w.version as Int64)) as Served | undefined) ?? list[i]);
      if (c) out.push({ type, name, version: c.version, detail: c.content });
      else missing.push(name);
    }
    const message = missing.length === 0
      ? "Get config details success"
      : `Get config details success, except ${missing.join(", ")}: not applied to this agent's groups in the served commit (deleted or moved since the heartbeat?); the next heartbeat answers DELETED.`;
    return { message, config_details: out };
  };

  return [
    agentRoute(V1_ENVELOPE, {
      path: "/Agent/HeartBeat", request: pb.HeartBeatRequest, response: pb.HeartBeatResponse,
      // The Legacy agent's every heartbeat once it holds what is served (src/protocols/repeats.ts).
      repeats: new Repeats<configserver.proto.v1.HeartBeatRequest>({
        registry, store, echo: "string", sequence: false, idField: 2, idText: stringField, parts: REPEATED.HEARTBEAT | REPEATED.REPORTS, applied: true,
        idOf: (q) => q.agent_id ?? "", worth: (reply) => reply === NOTHING_CHANGED,
      }),
      handle: (q: configserver.proto.v1.HeartBeatRequest): Replied => {
        const id = agentId(q.agent_id);
        const pipelines = q.pipeline_configs ?? [];
        const instances = q.agent_configs ?? [];
        // Checked before anything is stored: a bad request leaves the agent's record as it was.
        named(pipelines, "pipeline_configs");
        named(instances, "agent_configs");
        checkConfigCount(pipelines.length, "pipeline_configs");
        checkConfigCount(instances.length, "agent_configs");
        checkTagList(q.tags ?? [], (v) => v.length);
        const a = q.attributes;
        checkExtras(a?.extras, "attributes.extras");
        const interval = q.interval ?? 0;
        registry.heartbeat({
          agentId: id,
          protocol: "v1",
          attributes: { agentType: q.agent_type ?? "", version: a?.version ?? "", ip: a?.ip ?? "", hostname: a?.hostname ?? "", extras: extrasOf(a) },
          // v1 tags are values only; a group tag matches by value (matching.ts).
          tags: { named: NO_NAMES, values: q.tags ?? [] },
          runningStatus: q.running_status ?? "",
          startupTime: int64(q.startup_time as Int64),
          intervalSeconds: interval > 0 ? interval : undefined,
        });
        const record = registry.get(id) as AgentRecord;
        const state = servedState(store);
        const applied = state.applied(record.tagsKey, (record.heartbeat as NonNullable<AgentRecord["heartbeat"]>).tags, record.heartbeat?.attributes, id);
        const pipelineResults = check(record, "pipeline", pipelines, applied.configs);
        const agentResults = check(record, "instance", instances, applied.instances);
        if (pipelineResults === NONE && agentResults === NONE) return NOTHING_CHANGED;
        return { message: HEARTBEAT_OK, pipeline_check_results: pipelineResults, agent_check_results: agentResults };
      },
    }),
    agentRoute(V1_ENVELOPE, {
      path: "/Agent/FetchPipelineConfig", request: pb.FetchPipelineConfigRequest, response: pb.FetchPipelineConfigResponse,
      handle: (q: configserver.proto.v1.FetchPipelineConfigRequest) => fetch(PIPELINE_CONFIG, "pipeline", q.agent_id, q.req_configs ?? [], ""),
    }),
    agentRoute(V1_ENVELOPE, {
      path: "/Agent/FetchAgentConfig", request: pb.FetchAgentConfigRequest, response: pb.FetchAgentConfigResponse,
      handle: (q: configserver.proto.v1.FetchAgentConfigRequest) =>
        fetch(AGENT_CONFIG, "instance", q.agent_id, q.req_configs ?? [], " (a v2 FetchConfigRequest? v2 agents fetch instance configs from /Agent/FetchInstanceConfig)"),
    }),
  ];
}
