import { Redis } from "ioredis";
import type { Logger } from "pino";
import { redactUrl } from "./redactUrl.ts";

/** How long one Redis command may take before it counts as failed (a slow Redis is a down Redis). */
export const COMMAND_TIMEOUT_MS = 2000;

/**
 * A Redis connection that never queues (unless asked: a subscription waits for the connection):
 * while Redis is unreachable every command fails at once (the caller keeps its own bounded buffer), and it reconnects in the background every second
 * at most. Errors are logged when the connection changes state, not once per retry.
 */
export function redisClient(url: string, name: string, logger: Logger, options: { queue?: boolean } = {}): Redis {
  const redis = new Redis(url, {
    connectionName: `configserver-${name}`,
    enableOfflineQueue: options.queue ?? false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  });
  let up = false;
  let warned = false;
  redis.on("ready", () => {
    up = true;
    warned = false;
    logger.info({ redis: redactUrl(url), connection: name }, "connected to Redis");
  });
  redis.on("error", (err: Error) => {
    if (warned) return;
    warned = true;
    logger.warn({ redis: redactUrl(url), connection: name, err: err.message }, up ? "lost the Redis connection; retrying" : "cannot reach Redis; retrying");
  });
  redis.on("close", () => {
    up = false;
  });
  return redis;
}
