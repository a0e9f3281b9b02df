import { execSync } from "node:child_process";

/**
 * Fault injection for the crash tests, and nothing else: unset in production, where every call
 * is one Map lookup. CONFIGSERVER_TEST_CRASH_AT=<step>[@<n>][,…] makes the process kill itself
 * (SIGKILL, as the OOM killer would) when a write reaches that step for the n-th time (default 1);
 * CONFIGSERVER_TEST_RUN_AT=<step> with CONFIGSERVER_TEST_RUN=<shell command> runs the command,
 * once, when a write first reaches that step (a person's commit landing at an exact moment).
 * The steps are listed in docs/store.md.
 */
const crashAt = new Map(
  (process.env.CONFIGSERVER_TEST_CRASH_AT ?? "")
    .split(",")
    .filter(Boolean)
    .map((s) => [s.split("@")[0] as string, Number(s.split("@")[1] ?? 1)] as const),
);
const reached = new Map<string, number>();
const runAt = process.env.CONFIGSERVER_TEST_RUN_AT;
let ran = false;

export function faultPoint(step: string): void {
  if (crashAt.size > 0 && crashAt.has(step)) {
    const n = (reached.get(step) ?? 0) + 1;
    reached.set(step, n);
    if (n === crashAt.get(step)) process.kill(process.pid, "SIGKILL");
  }
  if (runAt === step && !ran) {
    ran = true;
    execSync(process.env.CONFIGSERVER_TEST_RUN ?? "true", { stdio: "ignore" });
  }
}
