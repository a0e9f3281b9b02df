import Router from "@koa/router";
import { runningDetails, type AgentRecord, type AgentRegistry } from "../agents/agentRegistry.ts";
import { answer, NOT_PROTOCOL } from "./answer.ts";

const iso = (unixSeconds: number) => (unixSeconds > 0 ? new Date(unixSeconds * 1000).toISOString() : null);

function summary(a: AgentRecord) {
  const hb = a.heartbeat;
  return {
    agentId: a.agentId,
    agentType: hb?.agentType ?? null,
    version: hb?.agentVersion ?? null,
    ip: hb?.ip ?? null,
    tags: hb?.tags ?? {},
    runningStatus: hb?.runningStatus ?? null,
    startupTime: hb?.startupTime ?? null,
    latestHeartbeatTime: a.latestHeartbeatTime || null,
    latestHeartbeatAt: iso(a.latestHeartbeatTime),
    lastSeenAt: a.lastSeenMs ? new Date(a.lastSeenMs).toISOString() : null,
    alarmCount: a.alarms.length,
  };
}

/**
 * The agents as the server remembers them, as JSON (an extension: the protocol has no way to
 * read alarms or raw statistics). Token-protected like the User API (the /api/ prefix).
 *   GET /api/v1/agents       {agents: [summary…]} of agents with a heartbeat, sorted by agentId
 *   GET /api/v1/agents/:id   summary + runningDetails, statistics, alarms (oldest first)
 */
export function agentsApiRouter(registry: AgentRegistry): Router {
  const router = new Router();
  router.get(["/api/v1/agents", "/api/v1/agents/"], (ctx) => {
    ctx.body = { agents: registry.list().map(summary) };
  });
  router.get("/api/v1/agents/:id", (ctx) => {
    const a = registry.find(ctx.params.id as string);
    if (!a) return answer(ctx, NOT_PROTOCOL, "AgentNotExist", `Agent ${ctx.params.id} doesn't exist.`);
    ctx.body = {
      ...summary(a),
      runningDetails: runningDetails(a.statistics),
      statistics: a.statistics ?? null,
      alarms: a.alarms.map((x) => ({ type: x.type, detail: x.detail, time: x.time, at: iso(x.time) })),
    };
  });
  return router;
}
