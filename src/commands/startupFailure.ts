import type { Settings } from "../settings/options.ts";
import { redactSecrets } from "../store/redact.ts";

const where = (s: Pick<Settings, "host" | "port">) => `${s.host.includes(":") ? `[${s.host}]` : s.host}:${s.port}`;

/**
 * What a person reads when the server cannot start: one or two plain lines, what went wrong
 * (and where) and how to fix it. The store's own errors already say both (e.g. "… is not
 * empty and not a git repository: point --repo at …"); listening errors are only codes.
 */
export function startupFailure(err: unknown, s: Pick<Settings, "host" | "port" | "repo">): string {
  const e = err as NodeJS.ErrnoException;
  // With --workers, the port is bound when the first worker listens: node:cluster says "bind".
  switch (e.syscall === "listen" || e.syscall === "bind" || e.syscall === "getaddrinfo" ? e.code : undefined) {
    case "EADDRINUSE":
      return `cannot listen on ${where(s)}: the port is in use (another configserver, or another program)\n` +
        `choose a free port with --port (or CONFIGSERVER_PORT, or "port:" in the settings file), or stop the program using it`;
    case "EACCES":
      return `cannot listen on ${where(s)}: permission denied (ports below 1024 need privileges)\nuse a port from 1024 up with --port`;
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
      return `cannot listen on ${where(s)}: ${s.host} is not an address of this machine\nuse --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface)`;
  }
  const lines = redactSecrets(e?.message ?? String(err)).trim().split("\n").filter((l) => l.trim() !== "");
  const text = lines.slice(0, 2).join("\n");
  return text.includes(s.repo) ? `cannot start: ${text}` : `cannot start with the repository ${s.repo}: ${text}`;
}
