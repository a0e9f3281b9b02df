import { hostname } from "node:os";
import type { BrowserGuardOptions } from "../http/browserGuard.ts";

/**
 * The Host names the server answers to besides IP addresses and loopback names: the name it
 * listens on, this machine's name, and --allowed-hosts (whose names may also be a page's Origin).
 */
export function servedNames(host: string, allowed: readonly string[] | undefined): BrowserGuardOptions {
  const names = [host.toLowerCase(), hostname().toLowerCase(), ...(allowed ?? [])];
  return { hosts: names, origins: allowed ?? [] };
}

