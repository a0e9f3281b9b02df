import { appendFileSync, closeSync, constants, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { formatIdentity, type Identity } from "./gitObjects.ts";

/**
 * git's reflog rule (refs/files-backend.c): an entry is appended to a ref's log and to HEAD's
 * when the log exists, whatever core.logAllRefUpdates says; a missing log is created only when
 * the setting allows it (the default for a branch in a non-bare repository).
 */
export function appendReflogs(gitDir: string, ref: string, from: string, to: string, who: Identity, message: string, create: boolean): void {
  const subject = message.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
  const line = `${from} ${to} ${formatIdentity(who)}\tcommit: ${subject}\n`;
  for (const log of [join(gitDir, "logs", ref), join(gitDir, "logs", "HEAD")]) {
    try {
      const fd = openSync(log, constants.O_WRONLY | constants.O_APPEND | (create ? constants.O_CREAT : 0), 0o666);
      try {
        writeSync(fd, line);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || !create) continue;
      mkdirSync(dirname(log), { recursive: true });
      appendFileSync(log, line);
    }
  }
}
