import type { AgentTags } from "./agent.ts";
import { addressSelectorsIn, groupMatches, matchKey, type AgentAddress } from "./matching.ts";
import { NO_OVERLAY, type RolloutOverlay } from "./rolloutOverlay.ts";
import type { RolloutPolicy } from "./rolloutPolicy.ts";
import { isOpampConfig } from "./opampConfigs.ts";
import { DEFAULT_GROUP, DEFAULT_GROUP_DESCRIPTION, type ConfigRecord, type GroupSpec, type InstanceConfigRecord } from "./types.ts";
import { byName } from "./names.ts";

const NO_CONFIGS: readonly ConfigRecord[] = Object.freeze([]);
/**
 * The applied-lists cache is keyed by the agent's tag set, which agents choose: it is bounded by
 * entries and by the bytes of the keys, so unauthenticated requests with huge tag sets cannot
 * grow it without limit (a fleet has few distinct tag sets; clearing costs one recomputation each).
 */
const MAX_CACHED_TAG_SETS = 10_000;
const MAX_CACHED_KEY_BYTES = 8 * 1024 * 1024;
/** Agents whose wave bits are remembered while rollouts run (past it the memory starts again). */
const MAX_WAVE_BITS = 500_000;

/**
 * What one tag set receives, each list sorted by name: LoongCollector agents (alpha, v1, v2) take
 * `configs` and `instances`, OpAMP agents take `opamp` (the configs saying `agent_type: opamp`,
 * which never go to the others).
 */
export interface Applied {
  readonly configs: readonly ConfigRecord[];
  readonly instances: readonly InstanceConfigRecord[];
  readonly opamp: readonly ConfigRecord[];
}

/**
 * The served state: one commit's configs and groups. Immutable; a new commit gives a new RepoState,
 * swapped atomically. Everything an agent request needs is precomputed or cached here, per tag set.
 */
export class RepoState {
  readonly configs: ReadonlyMap<string, ConfigRecord>;
  readonly instanceConfigs: ReadonlyMap<string, InstanceConfigRecord>;
  readonly groups: ReadonlyMap<string, GroupSpec>;
  readonly sortedConfigs: readonly ConfigRecord[];
  readonly sortedInstanceConfigs: readonly InstanceConfigRecord[];
  readonly sortedGroups: readonly GroupSpec[];
  /** Configs whose content is not a mapping, so agents that take JSON pipelines (v2) never get them. */
  readonly notMappings: readonly { readonly name: string; readonly kind: "pipeline" | "instance"; readonly problem: string }[];
  /** Whether some group selects by ip or host name: then the applied lists depend on them too. */
  readonly addressSelectors: { readonly ip: boolean; readonly hostname: boolean };
  private readonly appliedCache = new Map<string, Applied>();
  /** Applied lists by the set of groups that match, so agents that differ only by address share one. */
  private readonly appliedBySet = new Map<string, Applied>();
  private cachedKeyBytes = 0;
  /** What rollouts in progress change for some agents (rolloutOverlay.ts); empty: everyone gets the snapshot. */
  private overlay: RolloutOverlay = NO_OVERLAY;
  /** Applied lists as the overlay changes them, per snapshot list and wave membership bits. */
  private overlaid = new WeakMap<Applied, Map<string, Applied>>();
  /** Each agent's wave membership bits under the overlay, with the key (tag set, address) they were computed for. */
  private waveBits = new Map<string, { readonly key: string; readonly bits: string; readonly inside: boolean }>();

  constructor(
    readonly commit: string,
    /** First-parent depth of `commit` (1 for a root commit, 0 for an empty repository). */
    readonly depth: number,
    /** Commit time, unix milliseconds. */
    readonly committedAt: number,
    configs: Iterable<ConfigRecord>,
    groups: Iterable<GroupSpec>,
    instanceConfigs: Iterable<InstanceConfigRecord> = [],
    /** The repository's rollout policy (rollout.yaml), for configs without their own `rollout:`. */
    readonly rollout: RolloutPolicy | undefined = undefined,
  ) {
    this.configs = new Map([...configs].map((c) => [c.name, Object.freeze(c)]));
    this.instanceConfigs = new Map([...instanceConfigs].map((c) => [c.name, Object.freeze(c)]));
    const g = new Map([...groups].map((x) => [x.name, Object.freeze(x)]));
    if (!g.has(DEFAULT_GROUP)) g.set(DEFAULT_GROUP, implicitDefaultGroup());
    this.groups = g;
    this.sortedConfigs = Object.freeze([...this.configs.values()].sort(byName));
    this.sortedInstanceConfigs = Object.freeze([...this.instanceConfigs.values()].sort(byName));
    this.sortedGroups = Object.freeze([...this.groups.values()].sort(byName));
    this.addressSelectors = Object.freeze(addressSelectorsIn(this.sortedGroups));
    const notMappings: { name: string; kind: "pipeline" | "instance"; problem: string }[] = [];
    // OpAMP configs never go to v2 agents, mapping or not: not listed.
    for (const c of this.sortedConfigs) if (c.notMapping !== undefined && !isOpampConfig(c)) notMappings.push({ name: c.name, kind: "pipeline", problem: c.notMapping });
    for (const c of this.sortedInstanceConfigs) if (c.notMapping !== undefined) notMappings.push({ name: c.name, kind: "instance", problem: c.notMapping });
    this.notMappings = Object.freeze(notMappings);
  }

  /** Configs applied to any group matching these tags (and address), sorted by name. Cached per tag set. */
  appliedConfigs(key: string, tags: AgentTags, address?: AgentAddress, instanceId?: string): readonly ConfigRecord[] {
    return this.applied(key, tags, address, instanceId).configs;
  }

  /** The key the applied lists of an agent are cached under (see matchKey): for callers' own caches per distinct agent. */
  matchKey(tagsKey: string, address: AgentAddress | undefined): string {
    return matchKey(tagsKey, address, this.addressSelectors);
  }

  /**
   * Everything applied to any group matching these tags, or this address when some group selects
   * by address (`address`: what the agent reports; without it only tags are matched). Cached per
   * tag set (`tagsSetKey` = tagsKey(tags)), and per address only when some group selects by one.
   * `instanceId`: the agent asking, whose wave decides what a rollout in progress serves it.
   */
  applied(tagsSetKey: string, tags: AgentTags, address?: AgentAddress, instanceId?: string): Applied {
    const base = this.snapshotApplied(tagsSetKey, tags, address);
    const overlay = this.overlay;
    // Without a rollout in progress (or for a caller that names no agent: listings) the snapshot's lists.
    if (overlay.entries.length === 0 || instanceId === undefined) return base;
    let bits = "";
    let inside = false;
    if (overlay.byWaves.length > 0) {
      // Hashing the id per rolling config on every request is avoided: the bits change only with the overlay, the tags or the address.
      const key = overlay.usesAddress && address !== undefined ? `${tagsSetKey}\u0001${address.ip}\u0001${address.hostname}` : tagsSetKey;
      let memo = this.waveBits.get(instanceId);
      if (memo === undefined || memo.key !== key) {
        const b = overlay.bits(instanceId, tags, address);
        // Inside the current waves of some config ("1" or "3"): it may be served a new version.
        memo = { key, bits: b, inside: b.includes("1") || b.includes("3") };
        if (this.waveBits.size >= MAX_WAVE_BITS) this.waveBits.clear();
        this.waveBits.set(instanceId, memo);
      }
      bits = memo.bits;
      inside = memo.inside;
    }
    if (inside) overlay.noteServed(instanceId, bits, base);
    let byBits = this.overlaid.get(base);
    if (byBits === undefined) this.overlaid.set(base, (byBits = new Map()));
    let served = byBits.get(bits);
    if (served === undefined) byBits.set(bits, (served = Object.freeze(overlay.apply(base, bits))));
    return served;
  }

  /** The rollouts' overlay in force (see setRollouts). */
  get rollouts(): RolloutOverlay {
    return this.overlay;
  }

  /**
   * Replaces what rollouts change for some agents. Every applied list handed out before is then
   * stale (a new object is made for each), which is what ends the protocols' memos and repeat
   * answers made from them: an agent whose wave is reached gets its new answer at once.
   */
  setRollouts(overlay: RolloutOverlay): void {
    if (overlay === this.overlay) return;
    this.overlay = overlay;
    this.overlaid = new WeakMap();
    this.waveBits = new Map();
  }

  /** Config `name` of `kind` at `version` as served now: a version a rollout still serves some agents, or the snapshot's. */
  recordAt(kind: "pipeline" | "instance", name: string, version: number): ConfigRecord | InstanceConfigRecord | undefined {
    return this.overlay.pastVersion(kind, name, version) ?? (kind === "pipeline" ? this.configs.get(name) : this.instanceConfigs.get(name));
  }

  private snapshotApplied(tagsSetKey: string, tags: AgentTags, address?: AgentAddress): Applied {
    const key = matchKey(tagsSetKey, address, this.addressSelectors);
    const cached = this.appliedCache.get(key);
    if (cached) return cached;
    const names = new Set<string>();
    const instanceNames = new Set<string>();
    const matched: string[] = [];
    for (const group of this.sortedGroups) {
      if (!groupMatches(group, tags, address)) continue;
      matched.push(group.name);
      for (const c of group.configs) names.add(c);
      for (const c of group.instanceConfigs ?? []) instanceNames.add(c);
    }
    const pick = <T extends { name: string }>(wanted: Set<string>, from: ReadonlyMap<string, T>): readonly T[] =>
      Object.freeze([...wanted].map((n) => from.get(n)).filter((c): c is T => c !== undefined).sort(byName));
    const setKey = key === tagsSetKey ? undefined : matched.join("\0");
    const applied: Applied = (setKey !== undefined ? this.appliedBySet.get(setKey) : undefined) ?? split(pick(names, this.configs), pick(instanceNames, this.instanceConfigs));
    if (this.appliedCache.size >= MAX_CACHED_TAG_SETS || this.cachedKeyBytes + key.length > MAX_CACHED_KEY_BYTES) {
      this.appliedCache.clear();
      this.appliedBySet.clear();
      this.cachedKeyBytes = 0;
    }
    if (setKey !== undefined && setKey.length <= MAX_CACHED_KEY_BYTES && !this.appliedBySet.has(setKey)) {
      this.appliedBySet.set(setKey, applied);
      this.cachedKeyBytes += setKey.length;
    }
    // A key larger than the whole budget is answered but not kept.
    if (key.length <= MAX_CACHED_KEY_BYTES) {
      this.appliedCache.set(key, applied);
      this.cachedKeyBytes += key.length;
    }
    return applied;
  }

  /** Groups that have this config applied, sorted by name. */
  groupsApplying(configName: string): string[] {
    return this.sortedGroups.filter((g) => g.configs.includes(configName)).map((g) => g.name);
  }

  /** Groups that have this instance config applied, sorted by name. */
  groupsApplyingInstance(name: string): string[] {
    return this.sortedGroups.filter((g) => g.instanceConfigs?.includes(name)).map((g) => g.name);
  }
}

export function implicitDefaultGroup(): GroupSpec {
  return { name: DEFAULT_GROUP, description: DEFAULT_GROUP_DESCRIPTION, tags: [], configs: [] };
}

/**
 * An applied list split by fleet: configs that say `agent_type: opamp` go to OpAMP agents only,
 * every other config to LoongCollector agents only.
 */
function split(all: readonly ConfigRecord[], instances: readonly InstanceConfigRecord[]): Applied {
  const opamp = all.some(isOpampConfig);
  return Object.freeze({
    configs: opamp ? Object.freeze(all.filter((c) => !isOpampConfig(c))) : all,
    instances,
    opamp: opamp ? Object.freeze(all.filter(isOpampConfig)) : NO_CONFIGS,
  });
}
