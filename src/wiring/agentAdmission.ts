import type { Logger } from "pino";
import type { AgentAdmission } from "../agents/memoryRegistry.ts";
import type { Metrics } from "../metrics.ts";

/** How often the refusal of new agents (--max-agents) is logged at most. */
const REFUSAL_LOG_MS = 60_000;

/** --max-agents for a registry: each refusal counted (configserver_agents_refused_total), logged at most once a minute. */
export function agentAdmission(maxAgents: number, metrics: Metrics, logger: Logger): AgentAdmission {
  let loggedAt = -Infinity;
  let unlogged = 0;
  return {
    maxAgents,
    onRefused: (agentId) => {
      metrics.agentRefused();
      unlogged++;
      const now = Date.now();
      if (now - loggedAt < REFUSAL_LOG_MS) return;
      logger.warn({ agentId, refused: unlogged, maxAgents }, "new agents refused: the server already knows --max-agents agents (known agents keep working)");
      loggedAt = now;
      unlogged = 0;
    },
  };
}

