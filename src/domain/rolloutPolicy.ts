import type { IpSelector } from "./addressMatch.ts";
import type { Tag } from "./types.ts";

/**
 * A rollout policy: how a change to a config reaches its agents (`rollout.yaml` at the root of
 * the repository, or a config file's `rollout:` key, which replaces it for that config). Plain
 * data, so it travels with the snapshot to worker processes.
 */
export interface RolloutPolicy {
  /** Cumulative waves, in order; the last one always selects every agent (see withFinalWave). */
  readonly waves: readonly Wave[];
  /** How long a wave stays healthy after all its live agents applied, before the next one starts. */
  readonly bakeMs: number;
  /** How long an agent of a wave has to apply the new version before the wave fails. */
  readonly applyTimeoutMs: number;
  readonly halt: HaltRule;
  readonly onHalt: "revert" | "pause";
  /** Where the policy comes from (`rollout.yaml`, `configs/<name>.yaml`), for messages. */
  readonly source: string;
}

/**
 * One wave: a share of the agents by bucket (`basisPoints` of 10,000: `1%` is 100), the first
 * `count` agents by bucket, agents selected by tags or addresses, or every agent (`all`: the
 * final wave the server adds when the list does not end with 100%).
 */
export type Wave =
  | { readonly kind: "percent"; readonly text: string; readonly basisPoints: number }
  | { readonly kind: "count"; readonly text: string; readonly count: number }
  | { readonly kind: "select"; readonly text: string; readonly tags: readonly Tag[]; readonly ips: readonly IpSelector[]; readonly hostnames?: readonly string[] }
  | { readonly kind: "all"; readonly text: string };

/** FAILED agents (or agents gone after receiving the version) that halt a rollout: a number, or a share of the agents reached so far. */
export type HaltRule = { readonly failed: number } | { readonly failedPercent: number };

/** What a policy says when it leaves a field out. */
export const POLICY_DEFAULTS = { bakeMs: 10 * 60_000, applyTimeoutMs: 5 * 60_000, halt: { failed: 1 }, onHalt: "pause" } as const;

export const MAX_WAVES = 100;
export const BUCKETS = 10_000;
/** Durations up to a week: a longer bake is a mistake, and the number stays exact in milliseconds. */
export const MAX_DURATION_MS = 7 * 24 * 3600_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/**
 * A duration as people write it: one or more number-unit pairs, `10m`, `30s`, `1h30m`, `500ms`
 * (units ms, s, m, h, d); returns milliseconds or a message that says what is wrong.
 */
export function parseDuration(text: string): number | { readonly problem: string } {
  const s = text.trim();
  const bad = (why: string) => ({ problem: `${JSON.stringify(text)} is not a duration: ${why}` });
  if (s === "" || s.length > 32) return bad("write a number and a unit, such as 30s, 10m, 1h30m (units: ms, s, m, h, d)");
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/y;
  let ms = 0;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) return bad("write a number and a unit, such as 30s, 10m, 1h30m (units: ms, s, m, h, d)");
    ms += Number(m[1]) * (UNITS[m[2] as string] as number);
    at = re.lastIndex;
  }
  if (ms > MAX_DURATION_MS) return bad("it is longer than 7 days");
  return Math.round(ms);
}

/** A share of the agents, `1%` to `100%`, at most two decimals (buckets are 1/10,000). */
export function parsePercent(text: string): number | { readonly problem: string } {
  const m = /^([0-9]{1,3})(?:\.([0-9]{1,2}))?%$/.exec(text.trim());
  const bad = (why: string) => ({ problem: `${JSON.stringify(text)} is not a percentage: ${why}` });
  if (!m) return bad("write it as 1%, 12.5% or 0.01% (at most two decimals)");
  const basisPoints = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  if (basisPoints === 0) return bad("a wave of 0% selects nobody");
  if (basisPoints > BUCKETS) return bad("it is more than 100%");
  return basisPoints;
}

/** The final wave added when the written list does not end with 100%: a change always reaches everyone. */
export const FINAL_WAVE: Wave = Object.freeze({ kind: "all", text: "everyone else" });

/**
 * The waves as served: the written ones, plus a final wave selecting everyone unless the last
 * written one already does (100%).
 */
export function withFinalWave(written: readonly Wave[]): readonly Wave[] {
  const last = written[written.length - 1];
  if (last !== undefined && last.kind === "percent" && last.basisPoints === BUCKETS) return written;
  return [...written, FINAL_WAVE];
}

/**
 * Why a wave list is not cumulative, or undefined: percentages and counts must grow (a smaller
 * one after a larger one adds nobody), and nothing may follow 100%.
 */
export function wavesOrderProblem(waves: readonly Wave[], index: number): string | undefined {
  const w = waves[index];
  if (w === undefined) return undefined;
  for (let i = 0; i < index; i++) {
    const before = waves[i] as Wave;
    if (before.kind === "percent" && before.basisPoints === BUCKETS) return `wave ${index + 1} comes after ${before.text}, which already reaches every agent: remove it`;
    if (w.kind === "percent" && before.kind === "percent" && w.basisPoints <= before.basisPoints) {
      return `waves are cumulative: ${w.text} after ${before.text} adds no agent (each percentage is of the whole fleet and must be larger than the one before)`;
    }
    if (w.kind === "count" && before.kind === "count" && w.count <= before.count) {
      return `waves are cumulative: ${w.text} after ${before.text} adds no agent (each count is of the whole fleet and must be larger than the one before)`;
    }
  }
  return undefined;
}

/** The policy that applies to a config: its own `rollout:`, else the repository's, else none (everyone at once). */
export function effectivePolicy(config: { readonly rollout?: RolloutPolicy | undefined }, repositoryDefault: RolloutPolicy | undefined): RolloutPolicy | undefined {
  return config.rollout ?? repositoryDefault;
}

/** A duration for messages: `10m`, `1h30m`, `1.5s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 1000 !== 0 && ms < 60_000) return `${ms / 1000}s`;
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000);
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("") || "0s";
}
