import { isMap, isScalar, isSeq, type Node } from "yaml";
import { MAX_WAVES, parseDuration, parsePercent, POLICY_DEFAULTS, wavesOrderProblem, withFinalWave, type HaltRule, type RolloutPolicy, type Wave } from "../../domain/rolloutPolicy.ts";
import type { Tag } from "../../domain/types.ts";
import { readHostnames, readIps, readTagMap, type NodeReader } from "./selectorCodec.ts";

const POLICY_FIELDS = ["waves", "bake", "applyTimeout", "halt", "onHalt"];
const HALT_FIELDS = ["failed", "failedPercent"];
const SELECTOR_FIELDS = ["tags", "ips", "hostnames"];
/** Largest count a wave may name: far beyond any fleet, small enough to stay an exact number. */
const MAX_COUNT = 10_000_000;

const isNull = (node: unknown) => node == null || (isScalar(node) && node.value == null);
const scalarText = (node: unknown) => (isScalar(node) ? String(node.value) : "");

/**
 * A rollout policy from a YAML mapping: the whole of `rollout.yaml`, or the value of a config's
 * `rollout:` key (`where` names it in messages). Every problem is reported at its node; the policy
 * is returned only when there is none.
 */
export function readPolicy(r: NodeReader, node: unknown, source: string, where: string): RolloutPolicy | undefined {
  const before = problemCount(r);
  if (!isMap(node)) {
    r.problem(r.pos(node as Node), `${where} must be a mapping with the fields ${POLICY_FIELDS.join(", ")} (waves is required), such as: waves: [1%, 10%, 100%]`);
    return undefined;
  }
  const fields = new Map<string, unknown>();
  const keyNodes = new Map<string, Node>();
  for (const pair of node.items) {
    const key = scalarText(pair.key);
    if (!POLICY_FIELDS.includes(key)) {
      r.problem(r.pos(pair.key as Node), `unknown field ${JSON.stringify(key)} in ${where}: allowed fields: ${POLICY_FIELDS.join(", ")}`);
      continue;
    }
    fields.set(key, pair.value);
    keyNodes.set(key, pair.key as Node);
  }
  const waves = readWaves(r, fields.get("waves"), fields.has("waves") ? (keyNodes.get("waves") as Node) : (node as Node), where);
  const duration = (key: "bake" | "applyTimeout", fallback: number) => {
    if (!fields.has(key) || isNull(fields.get(key))) return fallback;
    const value = fields.get(key) as Node;
    if (!isScalar(value) || typeof value.value !== "string") {
      r.problem(r.pos(value), `${key} must be a duration with a unit, such as 30s, 10m or 1h (a bare number has no unit)`);
      return fallback;
    }
    const ms = parseDuration(value.value);
    if (typeof ms !== "number") r.problem(r.pos(value), `${key}: ${ms.problem}`);
    return typeof ms === "number" ? ms : fallback;
  };
  const bakeMs = duration("bake", POLICY_DEFAULTS.bakeMs);
  const applyTimeoutMs = duration("applyTimeout", POLICY_DEFAULTS.applyTimeoutMs);
  if (fields.has("applyTimeout") && applyTimeoutMs === 0) r.problem(r.pos(fields.get("applyTimeout") as Node), "applyTimeout must be longer than 0: agents need some time to apply a config");
  const halt = readHalt(r, fields.get("halt"));
  let onHalt: "revert" | "pause" = POLICY_DEFAULTS.onHalt;
  const on = fields.get("onHalt");
  if (!isNull(on)) {
    const v = isScalar(on) ? on.value : undefined;
    if (v === "revert" || v === "pause") onHalt = v;
    else r.problem(r.pos(on as Node), `onHalt must be revert (commit the previous content back) or pause (stop where it is), got ${JSON.stringify(isScalar(on) ? v : "a " + (isSeq(on) ? "list" : "mapping"))}`);
  }
  if (problemCount(r) > before || waves === undefined) return undefined;
  return { waves: withFinalWave(waves), bakeMs, applyTimeoutMs, halt, onHalt, source };
}

/** Problems reported so far (the reader keeps them in `problems` when it has that list). */
function problemCount(r: NodeReader): number {
  return (r as { problems?: readonly unknown[] }).problems?.length ?? 0;
}

function readWaves(r: NodeReader, node: unknown, at: Node, where: string): Wave[] | undefined {
  if (isNull(node)) {
    r.problem(r.pos(at), `${where} needs waves: a list such as [1%, 10%, 50%, 100%] (percentages, counts such as 25, or selectors such as {tags: {env: staging}})`);
    return undefined;
  }
  if (!isSeq(node)) {
    r.problem(r.pos(node as Node), "waves must be a list such as [1%, 10%, 50%, 100%]");
    return undefined;
  }
  if (node.items.length === 0) {
    r.problem(r.pos(node as Node), "waves is empty: list at least one wave, such as [10%, 100%]");
    return undefined;
  }
  if (node.items.length > MAX_WAVES) {
    r.problem(r.pos(node as Node), `waves has ${node.items.length} entries; at most ${MAX_WAVES}`);
    return undefined;
  }
  const waves: Wave[] = [];
  let ok = true;
  for (const item of node.items as Node[]) {
    const w = readWave(r, item);
    if (w === undefined) {
      ok = false;
      continue;
    }
    waves.push(w);
    const order = wavesOrderProblem(waves, waves.length - 1);
    if (order !== undefined) {
      r.problem(r.pos(item), order);
      ok = false;
    }
  }
  return ok ? waves : undefined;
}

function readWave(r: NodeReader, item: Node): Wave | undefined {
  const at = r.pos(item);
  if (isScalar(item)) {
    // A count may be quoted ("25"); a percentage is always text (1% is not a YAML number).
    const v = typeof item.value === "string" && /^[0-9]+$/.test(item.value.trim()) ? Number(item.value.trim()) : item.value;
    if (typeof v === "number") {
      if (!Number.isInteger(v) || v < 1 || v > MAX_COUNT) {
        r.problem(at, `a wave count is a whole number of agents from 1 to ${MAX_COUNT}, got ${v} (for a share of the fleet write a percentage such as 5%)`);
        return undefined;
      }
      return { kind: "count", text: String(v), count: v };
    }
    if (typeof v === "string" && v.trim().endsWith("%")) {
      const bp = parsePercent(v);
      if (typeof bp !== "number") {
        r.problem(at, bp.problem);
        return undefined;
      }
      return { kind: "percent", text: v.trim(), basisPoints: bp };
    }
    r.problem(at, `a wave is a percentage (10%), a count of agents (25) or a selector ({tags: {env: staging}} or {ips: [10.1.0.0/16]}), got ${JSON.stringify(v)}`);
    return undefined;
  }
  if (!isMap(item)) {
    r.problem(at, "a wave is a percentage (10%), a count of agents (25) or a selector ({tags: {env: staging}} or {ips: [10.1.0.0/16]}), not a list");
    return undefined;
  }
  let tags: Tag[] = [];
  let ips: ReturnType<typeof readIps> = [];
  let hostnames: string[] = [];
  let seen = 0;
  for (const pair of item.items) {
    const key = scalarText(pair.key);
    if (!SELECTOR_FIELDS.includes(key)) {
      r.problem(r.pos(pair.key as Node), `unknown field ${JSON.stringify(key)} in a wave selector: a selector has tags ({env: staging}), ips ([10.1.0.0/16]) and/or hostnames ([web-*])`);
      continue;
    }
    seen++;
    if (key === "tags") tags = readTagMap(r, pair.value, "a wave's tags");
    else if (key === "hostnames") {
      hostnames = readHostnames(r, pair.value);
      if (isSeq(pair.value) && pair.value.items.length === 0) r.problem(r.pos(pair.value as Node), "a wave's hostnames is empty: list at least one host name or pattern");
    } else {
      ips = readIps(r, pair.value);
      if (isSeq(pair.value) && pair.value.items.length === 0) r.problem(r.pos(pair.value as Node), "a wave's ips is empty: list at least one address, range or CIDR");
    }
  }
  if (seen === 0) {
    r.problem(at, "an empty wave selector selects nobody: give it tags ({env: staging}) or ips ([10.1.0.0/16])");
    return undefined;
  }
  const text = [
    tags.length > 0 ? `tags ${tags.map((t) => `${t.name}=${t.value}`).join(",")}` : "",
    ips.length > 0 ? `ips ${ips.map((i) => i.text).join(",")}` : "",
    hostnames.length > 0 ? `hostnames ${hostnames.join(",")}` : "",
  ].filter((s) => s !== "").join(" or ");
  return { kind: "select", text: text || "selector", tags, ips, ...(hostnames.length > 0 ? { hostnames } : {}) };
}

function readHalt(r: NodeReader, node: unknown): HaltRule {
  if (isNull(node)) return POLICY_DEFAULTS.halt;
  const usage = "halt must be {failed: N} (halt when N agents failed) or {failedPercent: P} (when P% of the agents reached so far failed)";
  if (!isMap(node) || node.items.length !== 1) {
    r.problem(r.pos(node as Node), usage);
    return POLICY_DEFAULTS.halt;
  }
  const pair = node.items[0] as (typeof node.items)[number];
  const key = scalarText(pair.key);
  const v = isScalar(pair.value) ? pair.value.value : undefined;
  if (!HALT_FIELDS.includes(key)) {
    r.problem(r.pos(pair.key as Node), `unknown field ${JSON.stringify(key)} in halt: ${usage}`);
    return POLICY_DEFAULTS.halt;
  }
  if (key === "failed") {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_COUNT) {
      r.problem(r.pos((pair.value ?? pair.key) as Node), `halt failed is a whole number of agents from 1 (halt on the first failure), got ${JSON.stringify(v ?? null)}`);
      return POLICY_DEFAULTS.halt;
    }
    return { failed: v };
  }
  if (typeof v !== "number" || !(v > 0) || v > 100) {
    r.problem(r.pos((pair.value ?? pair.key) as Node), `halt failedPercent is a number above 0 and at most 100 (no % sign), got ${JSON.stringify(v ?? null)}`);
    return POLICY_DEFAULTS.halt;
  }
  return { failedPercent: v };
}
