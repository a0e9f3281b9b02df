import type { AgentRegistry } from "../domain/registry.ts";
import type { RepoState } from "../domain/repoState.ts";
import { DEFAULTS, type Settings } from "../settings/options.ts";
import { alphaRoutes } from "./alpha/routes.ts";
import type { ChangeSignal } from "./changeSignal.ts";
import type { AgentRoutes } from "./protocol.ts";
import { v1Routes } from "./v1/routes.ts";
import { v2Routes } from "./v2/routes.ts";
import { opampRoutes } from "./opamp/routes.ts";

export interface AgentRouteDeps {
  readonly store: { readonly state: RepoState };
  readonly registry: AgentRegistry;
  readonly changes: ChangeSignal;
}

/**
 * Every protocol's agent routes, as one process (src/server.ts) and each worker
 * (src/cluster/worker.ts) serve them, to compile (compileRoutes.ts). Shared paths are listed in the order detect.ts decides
 * between them: alpha before v1 on /Agent/HeartBeat, v2 before v1 on /Agent/FetchPipelineConfig.
 */
export function agentRoutes(deps: AgentRouteDeps, options: Partial<Pick<Settings, "requestTimeoutMs" | "v2LongPollMs" | "v2ConfigDetails">>): AgentRoutes {
  // A held heartbeat must be answered before the request timeout answers it.
  const timeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
  const longPollMs = Math.max(0, Math.min(options.v2LongPollMs ?? DEFAULTS.v2LongPollMs, timeoutMs > 0 ? timeoutMs - 1000 : Infinity));
  const all = { ...deps, v2: { details: options.v2ConfigDetails ?? DEFAULTS.v2ConfigDetails, longPollMs } };
  return [...alphaRoutes(all), ...v2Routes(all), ...v1Routes(all), ...opampRoutes(all)];
}
