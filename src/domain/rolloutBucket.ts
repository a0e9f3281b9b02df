import { hostnameMatches, ipMatches, parseAddress } from "./addressMatch.ts";
import type { AgentTags } from "./agent.ts";
import { tagsMatch } from "./matching.ts";
import { BUCKETS, type RolloutPolicy, type Wave } from "./rolloutPolicy.ts";

/**
 * An agent's bucket for one config, in [0, 10000): FNV-1a (32-bit) of the UTF-8 bytes of
 * `instanceId + "\0" + configName`, modulo 10,000. Pure arithmetic on the two strings, so every
 * process, replica and restart puts an agent in the same bucket; per config, so the same agents
 * are not always the first to get every change.
 */
export function rolloutBucket(instanceId: string, configName: string): number {
  // The UTF-8 bytes are hashed as they are made, without encoding the strings into a buffer: the
  // rollouts' evaluation computes this for every agent and config, and TextEncoder's allocation
  // was half of its cost (BENCHMARKS.md, "Rollouts").
  return fnvUtf8(fnvUtf8(0x811c9dc5, instanceId), configName, true) % BUCKETS;
}

const step = (h: number, byte: number): number => Math.imul(h ^ byte, 0x01000193) >>> 0;

/**
 * FNV-1a over the UTF-8 bytes of `s` (as TextEncoder makes them: a lone surrogate is U+FFFD),
 * continuing from `h`; with `separated`, a 0 byte first.
 */
function fnvUtf8(h: number, s: string, separated = false): number {
  if (separated) h = step(h, 0);
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = step(h, c);
      continue;
    }
    if (c < 0x800) {
      h = step(step(h, 0xc0 | (c >> 6)), 0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        h = step(step(step(step(h, 0xf0 | (c >> 18)), 0x80 | ((c >> 12) & 0x3f)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
        continue;
      }
      c = 0xfffd;
    }
    h = step(step(step(h, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f));
  }
  return h;
}

/** Who an agent is, for deciding its wave. */
export interface WaveAgent {
  readonly instanceId: string;
  readonly tags: AgentTags;
  readonly ip: string;
  readonly hostname: string;
}

/**
 * Where a count wave stops: the agents ordered by (bucket, instance id), and the last one the
 * count includes. Fixed when the wave starts (see countCuts) so agents that arrive later never
 * push an agent back out of a wave it is in.
 */
export interface CountCut {
  readonly bucket: number;
  readonly instanceId: string;
}

/** Agents order by bucket, then by instance id (ties are rare, but the order must be total). */
export function bucketOrder(a: CountCut, b: CountCut): number {
  return a.bucket - b.bucket || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0);
}

/**
 * The cut of every count wave of `policy` for the fleet the config targets (`targeted`: instance
 * ids): a count N includes the first N agents in bucket order. `undefined` for waves that are not
 * counts, and for a count at least the fleet's size (it includes everyone).
 */
export function countCuts(policy: RolloutPolicy, configName: string, targeted: Iterable<string>): (CountCut | undefined)[] {
  const counts = policy.waves.map((w) => (w.kind === "count" ? w.count : 0));
  if (!counts.some((c) => c > 0)) return policy.waves.map(() => undefined);
  const order: CountCut[] = [];
  for (const instanceId of targeted) order.push({ bucket: rolloutBucket(instanceId, configName), instanceId });
  order.sort(bucketOrder);
  return counts.map((c) => (c > 0 && c < order.length ? order[c - 1] : undefined));
}

/** Whether one wave selects an agent whose bucket is `bucket`. */
function selects(wave: Wave, cut: CountCut | undefined, agent: WaveAgent, bucket: number): boolean {
  switch (wave.kind) {
    case "all":
      return true;
    case "percent":
      return bucket < wave.basisPoints;
    case "count":
      return cut === undefined || bucketOrder({ bucket, instanceId: agent.instanceId }, cut) <= 0;
    case "select": {
      if (tagsMatch(wave.tags, agent.tags)) return true;
      if (agent.hostname !== "" && wave.hostnames?.some((g) => hostnameMatches(g, agent.hostname))) return true;
      if (wave.ips.length === 0 || agent.ip === "") return false;
      const address = parseAddress(agent.ip);
      return wave.ips.some((s) => ipMatches(s, address));
    }
  }
}

/**
 * The wave an agent belongs to for config `configName`, numbered from 1: the first wave that
 * selects it. Percentages select by bucket (`10%`: buckets 0-999, so every agent of `1%` is also
 * in `10%`); counts by the cuts made when their wave started (`cuts[i]` for wave i + 1; a count
 * without a cut includes everyone); selectors by tags (any one, as group tags), address or host name. The
 * final wave selects everyone, so every agent has a wave.
 */
export function waveOf(policy: RolloutPolicy, configName: string, agent: WaveAgent, cuts: readonly (CountCut | undefined)[] = []): number {
  const bucket = rolloutBucket(agent.instanceId, configName);
  for (let i = 0; i < policy.waves.length; i++) {
    if (selects(policy.waves[i] as Wave, cuts[i], agent, bucket)) return i + 1;
  }
  return policy.waves.length;
}

/** Whether the agent is in waves 1..`wave` (it gets the new version while the rollout stands at `wave`). */
export function inWaves(policy: RolloutPolicy, wave: number, configName: string, agent: WaveAgent, cuts: readonly (CountCut | undefined)[] = []): boolean {
  return waveOf(policy, configName, agent, cuts) <= wave;
}
