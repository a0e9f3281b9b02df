import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The prefix of the primary's private folders in the temporary directory. */
const PREFIX = "configserver-primary-";

/**
 * Where the workers reach the primary: a socket file in a private temporary folder (mode 0700,
 * mkdtemp's), on every platform. An abstract Unix socket (Linux) has no file and so no
 * permissions: any local user could connect to it and be handed requests as a worker. The folder
 * is removed when the primary stops; a primary killed outright leaves it behind, so folders of
 * primaries that are no longer running (their pid file names a dead process) are removed at the
 * next start.
 */
export function privateSocket(): { socketPath: string; cleanup: () => void } {
  removeStale();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, "pid"), String(process.pid), { mode: 0o600 });
  return { socketPath: join(dir, "primary.sock"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Removes the folders of primaries that died without cleaning up; best effort (someone else's folder is left alone). */
function removeStale(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    try {
      const pid = Number(readFileSync(join(dir, "pid"), "utf8"));
      if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not ours to read (another user's), or being created right now: left alone.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
