import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * The process that left a file behind (a write intent, a lock stub, a temporary file), told apart
 * from a later process that got the same pid: a restarted container's server is often pid 1 again.
 */
export interface Owner {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (Linux), or "0" where unknown. */
  readonly start: string;
  /** The first characters of the kernel's boot id (Linux), or "0" where unknown. */
  readonly boot: string;
  /** Random per process: tells this process from an earlier one with the same pid. */
  readonly token: string;
}

function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid …": comm may hold spaces and parentheses; starttime is field 22.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().replace(/-/g, "").slice(0, 12) || "0";
  } catch {
    return "0";
  }
}

export const SELF: Owner = { pid: process.pid, start: startOf(process.pid) ?? "0", boot: bootId(), token: randomBytes(4).toString("hex") };

const NAME = /^(\d+)-(\w+)-(\w+)-([0-9a-f]+)$/;

/** A file-name-safe form: `<pid>-<start>-<boot>-<token>`. */
export const ownerName = (o: Owner): string => `${o.pid}-${o.start}-${o.boot}-${o.token}`;

export function parseOwner(name: string): Owner | undefined {
  const m = NAME.exec(name);
  return m ? { pid: Number(m[1]), start: m[2] as string, boot: m[3] as string, token: m[4] as string } : undefined;
}

export const isSelf = (o: Owner): boolean => o.pid === SELF.pid && o.token === SELF.token;

/**
 * Whether the owner may still be running. Errs on the side of "alive" (its leftovers are then left
 * alone, never stolen) whenever the answer cannot be proved: another user's process, or a /proc
 * that does not show it.
 */
export function isLive(o: Owner): boolean {
  if (isSelf(o)) return true;
  // Our own pid with another token: an earlier process that had this pid (e.g. pid 1 in a container).
  if (o.pid === SELF.pid) return false;
  if (o.boot !== "0" && SELF.boot !== "0" && o.boot !== SELF.boot) return false; // the machine rebooted since
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const start = o.start !== "0" ? startOf(o.pid) : undefined;
  // The pid is in use: by the owner, unless its start time shows another process.
  return start === undefined || start === o.start;
}
