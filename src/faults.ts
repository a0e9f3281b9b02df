import { execFileSync } from "node:child_process";

/**
 * Fault injection for the tests that kill, race or delay the real server, and nothing else. Every
 * setting is an environment variable with this prefix; none is set in production, where a fault
 * point costs one Map lookup. `serve` does not take them for settings: it says once that fault
 * injection is active (describeFaults).
 *
 * - `CONFIGSERVER_FAULT_CRASH_AT=<step>[@<n>][,…]`: the process SIGKILLs itself (as the OOM killer
 *   would) when a write reaches `<step>` for the n-th time (default the first).
 * - `CONFIGSERVER_FAULT_RUN_AT=<step>` with `CONFIGSERVER_FAULT_RUN=<JSON array: program, args…>`:
 *   runs that program once, without a shell, when a write first reaches `<step>` (a person's commit
 *   landing at an exact moment).
 * - `CONFIGSERVER_FAULT_PRIMARY_READ_DELAY_MS=<ms>`: with --workers, the primary reads every
 *   worker message that much later, in arrival order (a connection reaching a worker before the
 *   change it needs).
 *
 * The store's steps are listed in docs/store.md.
 */
export const FAULT_PREFIX = "CONFIGSERVER_FAULT_";

const NAMES = ["CRASH_AT", "RUN_AT", "RUN", "PRIMARY_READ_DELAY_MS"].map((n) => FAULT_PREFIX + n);

export interface FaultPlan {
  /** Step → the time it is reached at which the process dies. */
  readonly crashAt: ReadonlyMap<string, number>;
  readonly runAt: string | undefined;
  /** The program and its arguments (no shell). */
  readonly run: readonly string[] | undefined;
  readonly primaryReadDelayMs: number;
  /** What was set wrong (the faults it names are off). */
  readonly problems: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseFaults(env: Env): FaultPlan {
  const problems: string[] = [];
  const crashAt = new Map<string, number>();
  for (const item of (env[`${FAULT_PREFIX}CRASH_AT`] ?? "").split(",").filter(Boolean)) {
    const [step, nth = "1"] = item.split("@");
    const n = Number(nth);
    if (!step || !Number.isInteger(n) || n < 1) problems.push(`${FAULT_PREFIX}CRASH_AT: ${JSON.stringify(item)} is not <step>[@<n>]`);
    else crashAt.set(step, n);
  }
  let run: string[] | undefined;
  const runText = env[`${FAULT_PREFIX}RUN`];
  if (runText !== undefined) {
    try {
      const argv: unknown = JSON.parse(runText);
      if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) throw new Error("not a non-empty array of strings");
      run = argv as string[];
    } catch (e) {
      problems.push(`${FAULT_PREFIX}RUN must be a JSON array of strings (program, arguments): ${(e as Error).message}`);
    }
  }
  const delayText = env[`${FAULT_PREFIX}PRIMARY_READ_DELAY_MS`];
  const delay = Number(delayText ?? 0);
  if (!Number.isFinite(delay) || delay < 0) problems.push(`${FAULT_PREFIX}PRIMARY_READ_DELAY_MS: ${JSON.stringify(delayText)} is not a number of milliseconds`);
  return { crashAt, runAt: env[`${FAULT_PREFIX}RUN_AT`], run, primaryReadDelayMs: Number.isFinite(delay) && delay > 0 ? delay : 0, problems };
}

/**
 * The one line `serve` logs when any fault variable is set (undefined when none is): which are
 * set, which are unknown, what is wrong. A process started with faults says so.
 */
export function describeFaults(env: Env): string | undefined {
  const set = Object.keys(env).filter((k) => k.startsWith(FAULT_PREFIX)).sort();
  if (set.length === 0) return undefined;
  const unknown = set.filter((k) => !NAMES.includes(k));
  const { problems } = parseFaults(env);
  const known = set.filter((k) => NAMES.includes(k));
  return [
    `fault injection is active (tests only): ${known.length > 0 ? known.join(", ") : "nothing known"}`,
    ...(unknown.length > 0 ? [`unknown, ignored: ${unknown.join(", ")}`] : []),
    ...problems,
  ].join("; ");
}

/** The plan of this process, read once from its environment. */
export const faults: FaultPlan = parseFaults(process.env);

const reached = new Map<string, number>();
let ran = false;

/** A step of a write (the store calls this): dies or runs the planned program here, if planned. */
export function faultPoint(step: string, plan: FaultPlan = faults): void {
  if (plan.crashAt.size > 0 && plan.crashAt.has(step)) {
    const n = (reached.get(step) ?? 0) + 1;
    reached.set(step, n);
    if (n === plan.crashAt.get(step)) process.kill(process.pid, "SIGKILL");
  }
  if (plan.runAt === step && !ran) {
    ran = true;
    if (plan.run === undefined) throw new Error(`${FAULT_PREFIX}RUN_AT=${step} is set but ${FAULT_PREFIX}RUN is missing or invalid`);
    const [program, ...args] = plan.run as [string, ...string[]];
    execFileSync(program, args, { stdio: "ignore" });
  }
}

/**
 * Runs each given function `delayMs` after it was given, in the order given (one queue, one
 * timer): how the primary reads its workers late under PRIMARY_READ_DELAY_MS.
 */
export function inArrivalOrder(delayMs: number): (run: () => void) => void {
  const queue: { readonly at: number; readonly run: () => void }[] = [];
  const drain = () => {
    while (queue.length > 0 && (queue[0] as { at: number }).at <= performance.now()) (queue.shift() as { run: () => void }).run();
    if (queue.length > 0) setTimeout(drain, (queue[0] as { at: number }).at - performance.now());
  };
  return (run) => {
    queue.push({ at: performance.now() + delayMs, run });
    if (queue.length === 1) setTimeout(drain, delayMs);
  };
}
