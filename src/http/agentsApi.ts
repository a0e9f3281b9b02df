import Router from "@koa/router";
import { APPLY_STATUS_NAMES, isLate, runningDetails, type AgentRecord, type ConfigReport } from "../domain/agent.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import { answer, NOT_PROTOCOL } from "./answer.ts";

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
  };
}

const report = (c: ConfigReport) => ({ name: c.name, version: c.version, status: APPLY_STATUS_NAMES[c.status], message: c.message });

/**
 * The agents as the server remembers them, as JSON (an extension: the protocols have no way to
 * read alarms, raw statistics or apply statuses). Token-protected like the User API (/api/).
 *   GET /api/v1/agents       {agents: [summary…]} of agents with a heartbeat, sorted by agentId
 *   GET /api/v1/agents/:id   summary + attributes, runningDetails, statistics, alarms (oldest
 *                            first) and the configs it reports with their apply status
 */
export function agentsApiRouter(registry: AgentRegistry, now: () => number = Date.now): Router {
  const router = new Router();
  router.get(["/api/v1/agents", "/api/v1/agents/"], (ctx) => {
    const t = now();
    ctx.body = { agents: registry.list().map((a) => summary(a, t)) };
  });
  router.get("/api/v1/agents/:id", (ctx) => {
    const a = registry.find(ctx.params.id as string);
    if (!a) return answer(ctx, NOT_PROTOCOL, "AgentNotExist", `Agent ${ctx.params.id} doesn't exist.`);
    ctx.body = {
      ...summary(a, now()),
      attributes: a.heartbeat?.attributes.extras ?? {},
      intervalSeconds: a.heartbeat?.intervalSeconds ?? null,
      runningDetails: runningDetails(a.statistics),
      statistics: a.statistics ?? null,
      alarms: a.alarms.map((x) => ({ type: x.type, detail: x.detail, time: x.time, at: iso(x.time) })),
      pipelineConfigs: a.pipelines.map(report),
      instanceConfigs: a.instances.map(report),
      configsReportedAt: a.reportedMs ? new Date(a.reportedMs).toISOString() : null,
    };
  });
  return router;
}
