import { execSync } from "node:child_process";

/**
 * Fault injection for the crash tests, and nothing else: unset in production, where every call
 * is one Set lookup. CONFIGSERVER_TEST_CRASH_AT=<step>[,<step>…] makes the process kill itself
 * (SIGKILL, as the OOM killer or a power cut would) when a write reaches that step;
 * CONFIGSERVER_TEST_RUN_AT=<step> with CONFIGSERVER_TEST_RUN=<shell command> runs the command,
 * once, when a write first reaches that step (a person's commit landing at an exact moment).
 * The steps are listed in docs/store.md.
 */
const crashAt = new Set((process.env.CONFIGSERVER_TEST_CRASH_AT ?? "").split(",").filter(Boolean));
const runAt = process.env.CONFIGSERVER_TEST_RUN_AT;
let ran = false;

export function faultPoint(step: string): void {
  if (crashAt.size > 0 && crashAt.has(step)) process.kill(process.pid, "SIGKILL");
  if (runAt === step && !ran) {
    ran = true;
    execSync(process.env.CONFIGSERVER_TEST_RUN ?? "true", { stdio: "ignore" });
  }
}
