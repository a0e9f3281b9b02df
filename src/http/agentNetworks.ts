import type { Socket } from "node:net";
import { ipMatches, parseAddress, type IpSelector } from "../domain/addressMatch.ts";

/**
 * `--agent-networks`: whether a connection's source address may use the agent routes. Decided once
 * per connection (a keep-alive connection carries many heartbeats), before any body is read.
 */
export function networkCheck(networks: readonly IpSelector[]): (socket: Socket) => boolean {
  const seen = new WeakMap<Socket, boolean>();
  return (socket) => {
    let ok = seen.get(socket);
    if (ok === undefined) {
      const address = parseAddress(socket.remoteAddress ?? "");
      ok = networks.some((n) => ipMatches(n, address));
      seen.set(socket, ok);
    }
    return ok;
  };
}

/** The message of a refusal (HTTP 403, code Forbidden) for an address outside --agent-networks. */
export function networkRefusal(socket: Socket): string {
  return `Agents are accepted only from the networks of --agent-networks; ${socket.remoteAddress ?? "this address"} is not in them.`;
}
