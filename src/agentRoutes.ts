import type { AgentRegistry } from "./domain/registry.ts";
import type { RepoState } from "./domain/repoState.ts";
import type { Settings } from "./config.ts";
import { alphaRoutes } from "./protocols/alpha/routes.ts";
import type { ChangeSignal } from "./protocols/changeSignal.ts";
import { opampRoutes } from "./protocols/opamp/routes.ts";
import type { AgentRoutes } from "./protocols/protocol.ts";
import { v1Routes } from "./protocols/v1/routes.ts";
import { V2_DEFAULTS, v2Routes } from "./protocols/v2/routes.ts";

export interface AgentRouteDeps {
  readonly store: { readonly state: RepoState };
  readonly registry: AgentRegistry;
  readonly changes: ChangeSignal;
}

/**
 * Every protocol's agent routes, as one process (src/server.ts) and each worker
 * (src/cluster/worker.ts) serve them. Shared paths are listed in the order detect.ts decides
 * between them: alpha before v1 on /Agent/HeartBeat, v2 before v1 on /Agent/FetchPipelineConfig.
 */
export function agentRoutes(deps: AgentRouteDeps, options: Partial<Pick<Settings, "requestTimeoutMs" | "v2LongPollMs" | "v2ConfigDetails">>): AgentRoutes {
  // A held heartbeat must be answered before the request timeout answers it.
  const timeoutMs = options.requestTimeoutMs ?? 0;
  const longPollMs = Math.max(0, Math.min(options.v2LongPollMs ?? V2_DEFAULTS.longPollMs, timeoutMs > 0 ? timeoutMs - 1000 : Infinity));
  const all = { ...deps, v2: { details: options.v2ConfigDetails ?? V2_DEFAULTS.details, longPollMs } };
  return [...alphaRoutes(all), ...v2Routes(all), ...v1Routes(all), ...opampRoutes(all)];
}
