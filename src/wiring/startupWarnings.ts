import type { Logger } from "pino";
import type { IpSelector } from "../domain/addressMatch.ts";

const isLoopback = (host: string) => host === "localhost" || host === "::1" || host.startsWith("127.");

export function warnIfOpen(logger: Logger, host: string, userToken: string | undefined, tokens?: readonly unknown[]): void {
  if (!userToken && !tokens?.length && !isLoopback(host)) {
    logger.warn({ host }, "listening on a non-loopback address without a user token: anyone who can reach it can change configs (set --user-token-file)");
  }
}

/**
 * Agents cannot prove who they are (LoongCollector's providers send no token and speak plain
 * HTTP), so agent routes reachable from other machines with neither a token nor networks let
 * anyone claim to be an agent, and read the configs its claimed tags select.
 */
export function warnIfAgentsOpen(logger: Logger, host: string, agentToken: string | undefined, agentNetworks: readonly IpSelector[] | undefined): void {
  if (!agentToken && !agentNetworks?.length && !isLoopback(host)) {
    logger.warn({ host }, "agent routes are reachable on a non-loopback address with neither an agent token nor agent networks: anyone who can reach them can pose as an agent and read the configs of any tags (set --agent-networks or --agent-token-file; docs/security.md)");
  }
}

