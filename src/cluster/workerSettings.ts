import type { Logger } from "pino";
import type { ServerOptions } from "../server.ts";
import { DEFAULTS } from "../settings/options.ts";
import type { WorkerSettings } from "./messages.ts";

/** The settings a worker runs with, from the primary's (the option table's defaults for what is unset). */
export function workerSettings(options: ServerOptions, logger: Logger): WorkerSettings {
  return {
    host: options.host ?? DEFAULTS.host,
    port: options.port ?? DEFAULTS.port,
    logLevel: logger.level as WorkerSettings["logLevel"],
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    agentTtlMs: options.agentTtlMs ?? DEFAULTS.agentTtlMs,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
    agentToken: options.agentToken,
    agentNetworks: options.agentNetworks,
    agentBodyLimit: options.agentBodyLimit ?? DEFAULTS.agentBodyLimit,
    maxAgents: options.maxAgents ?? DEFAULTS.maxAgents,
    v2ConfigDetails: options.v2ConfigDetails ?? DEFAULTS.v2ConfigDetails,
    v2LongPollMs: options.v2LongPollMs ?? DEFAULTS.v2LongPollMs,
  };
}
