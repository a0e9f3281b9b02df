import type { Logger } from "pino";
import { DEFAULTS, type ServerOptions } from "../server.ts";
import type { WorkerSettings } from "./messages.ts";

/** The settings a worker runs with, from the primary's. */
export function workerSettings(options: ServerOptions, logger: Logger): WorkerSettings {
  return {
    host: options.host ?? DEFAULTS.host,
    port: options.port ?? DEFAULTS.port,
    logLevel: logger.level as WorkerSettings["logLevel"],
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    requestTimeoutMs: options.requestTimeoutMs ?? 0,
    agentTtlMs: options.agentTtlMs ?? 0,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
    agentToken: options.agentToken,
    v2ConfigDetails: options.v2ConfigDetails ?? "heartbeat",
    v2LongPollMs: options.v2LongPollMs ?? 20_000,
  };
}
