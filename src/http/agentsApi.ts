import Router from "@koa/router";
import type { Context } from "koa";
import { APPLY_STATUS_NAMES, isLate, runningDetails, type AgentRecord, type ConfigReport } from "../domain/agent.ts";
import { agentFilter, parseAgentQuery } from "../domain/agentQuery.ts";
import { capabilityNames, driftOf, effectiveConfigOf, healthOf, plainExtras, remoteConfigOf } from "../domain/agentStatus.ts";
import { DomainError } from "../domain/errors.ts";
import { groupsOf } from "../domain/groupOps.ts";
import { opampFiles } from "../domain/opampConfigs.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import type { RepoState } from "../domain/repoState.ts";
import { answerCode, NOT_PROTOCOL } from "./codeAnswer.ts";

const iso = (unixSeconds: number) => (unixSeconds > 0 ? new Date(unixSeconds * 1000).toISOString() : null);

function summary(a: AgentRecord, now: number) {
  const hb = a.heartbeat;
  return {
    agentId: a.agentId,
    protocol: hb?.protocol ?? null,
    agentType: hb?.attributes.agentType ?? null,
    version: hb?.attributes.version ?? null,
    ip: hb?.attributes.ip ?? null,
    hostname: hb?.attributes.hostname || null,
    tags: hb?.tags.named ?? {},
    ...(hb?.tags.values ? { tagValues: hb.tags.values } : {}),
    runningStatus: hb?.runningStatus ?? null,
    startupTime: hb?.startupTime ?? null,
    latestHeartbeatTime: a.latestHeartbeatTime || null,
    latestHeartbeatAt: iso(a.latestHeartbeatTime),
    lastSeenAt: a.lastSeenMs ? new Date(a.lastSeenMs).toISOString() : null,
    late: isLate(a, now),
    alarmCount: a.alarms.length,
    ...(hb?.protocol === "opamp" ? { healthy: healthOf(a)?.healthy ?? null } : {}),
  };
}

/**
 * What an OpAMP agent says beyond a heartbeat: capabilities, health, its remote config's status,
 * the effective config it runs, and how that compares with what git says it should run.
 */
function opampDetails(a: AgentRecord, state: RepoState) {
  const hb = a.heartbeat;
  if (hb?.protocol !== "opamp") return {};
  const effective = effectiveConfigOf(a);
  const expected = opampFiles(state.commit === "" ? [] : state.applied(a.tagsKey, hb.tags).opamp);
  return {
    capabilities: capabilityNames(hb.capabilities ?? 0),
    health: healthOf(a) ?? null,
    remoteConfig: remoteConfigOf(a) ?? null,
    effectiveConfig: effective ?? null,
    drift: driftOf(expected, effective),
  };
}

const report = (c: ConfigReport) => ({ name: c.name, version: c.version, status: APPLY_STATUS_NAMES[c.status], message: c.message });

/** Koa's parsed query as name → values. */
function queryParams(ctx: Context): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(ctx.query)) out.set(k, Array.isArray(v) ? v : v === undefined ? [] : [v]);
  return out;
}

/**
 * The agents as the server remembers them, as JSON (an extension: the protocols have no way to
 * read alarms, raw statistics or apply statuses). Token-protected like the User API (/api/).
 *   GET /api/v1/agents       {agents: [summary…], total, next} of agents with a heartbeat, sorted
 *                            by agentId, filtered and paged (src/domain/agentQuery.ts: q, tag,
 *                            group, protocol, version, failed, late, config + configState,
 *                            limit (default 500), after = the previous page's `next`)
 *   GET /api/v1/agents/:id   summary + attributes, the groups that select it, runningDetails,
 *                            statistics, alarms (oldest first) and the configs it reports with
 *                            their apply status; for OpAMP agents also capabilities, health,
 *                            remoteConfig, effectiveConfig and drift (src/domain/agentStatus.ts)
 */
export function agentsApiRouter(registry: AgentRegistry, store: { readonly state: RepoState }, now: () => number = Date.now): Router {
  const router = new Router();
  router.get(["/api/v1/agents", "/api/v1/agents/"], async (ctx) => {
    const t = now();
    let query, keep;
    try {
      query = parseAgentQuery(queryParams(ctx));
      keep = agentFilter(query, store.state, t);
    } catch (e) {
      if (e instanceof DomainError) return answerCode(ctx, NOT_PROTOCOL, e.code, e.message);
      throw e;
    }
    const page: AgentRecord[] = [];
    let total = 0;
    let next: string | null = null;
    for (const a of await registry.list()) {
      if (!keep(a)) continue;
      total++;
      if (query.after !== undefined && a.agentId <= query.after) continue;
      if (page.length < query.limit) page.push(a);
      else next ??= (page[page.length - 1] as AgentRecord).agentId;
    }
    ctx.body = { agents: page.map((a) => summary(a, t)), total, next };
  });
  router.get("/api/v1/agents/:id", async (ctx) => {
    const a = await registry.find(ctx.params.id as string);
    if (!a) return answerCode(ctx, NOT_PROTOCOL, "AgentNotExist", `Agent ${ctx.params.id} doesn't exist.`);
    ctx.body = {
      ...summary(a, now()),
      attributes: plainExtras(a.heartbeat?.attributes.extras ?? {}),
      groups: groupsOf(store.state.sortedGroups, a),
      intervalSeconds: a.heartbeat?.intervalSeconds ?? null,
      runningDetails: runningDetails(a.statistics),
      statistics: a.statistics ?? null,
      alarms: a.alarms.map((x) => ({ type: x.type, detail: x.detail, time: x.time, at: iso(x.time) })),
      pipelineConfigs: a.pipelines.map(report),
      instanceConfigs: a.instances.map(report),
      configsReportedAt: a.reportedMs ? new Date(a.reportedMs).toISOString() : null,
      ...opampDetails(a, store.state),
    };
  });
  return router;
}
