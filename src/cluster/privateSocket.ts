import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Where the workers reach the primary. On Linux an abstract Unix socket: no file, so a primary
 * killed at any instant leaves nothing behind (and it gives no more access than the public port:
 * the primary checks the same tokens for every request it is handed). Elsewhere a socket in a
 * private temporary folder, removed when the primary stops.
 */
export function privateSocket(): { socketPath: string; cleanup: () => void } {
  if (process.platform === "linux") return { socketPath: `\0configserver-${process.pid}-${randomBytes(6).toString("hex")}`, cleanup: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), "configserver-"));
  return { socketPath: join(dir, "primary.sock"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
