import type { AgentTags, ConfigKind } from "./agent.ts";
import { groupMatches, type AgentAddress } from "./matching.ts";
import { inWaves, type CountCut } from "./rolloutBucket.ts";
import type { RolloutPolicy } from "./rolloutPolicy.ts";
import type { ConfigRecord, GroupSpec, InstanceConfigRecord } from "./types.ts";

/**
 * One config whose served version depends on the agent while a rollout runs:
 * - `waves`: agents of waves 1..wave get the snapshot's version, the others `from` (the version
 *   that last reached everyone; undefined for a new config: they get nothing);
 * - `pinned`: everyone gets `from` (a revert or a rollback to the last completed version): agents
 *   that never received the new version keep exactly what they hold, version number included, and
 *   the ones that did reload once.
 */
export interface RollingConfig {
  readonly kind: ConfigKind;
  readonly name: string;
  readonly mode: "waves" | "pinned";
  readonly policy: RolloutPolicy;
  readonly wave: number;
  readonly cuts: readonly (CountCut | undefined)[];
  readonly from: ConfigRecord | InstanceConfigRecord | undefined;
  /**
   * The groups that applied `from` (a rollout recorded before they were kept has none: agents
   * outside the waves then keep `from` where the commit applies the config). Agents outside the
   * current waves that they match keep `from`, even where the commit no longer applies the config
   * (a removal, a binding removed); the others get nothing of it, even where the commit applies it
   * (a binding added, a group's selectors changed).
   */
  readonly fromGroups?: readonly GroupSpec[] | undefined;
}

interface Listed {
  readonly configs: readonly ConfigRecord[];
  readonly instances: readonly InstanceConfigRecord[];
}

/**
 * What the rollouts change in the applied lists (RepoState.applied). Plain data plus pure
 * functions: every process that holds the same overlay serves every agent the same.
 */
export class RolloutOverlay {
  /** The configs under a rollout by waves: the agent's membership in each is one character of its key. */
  readonly byWaves: readonly RollingConfig[];
  readonly pinned: readonly RollingConfig[];
  /** Past versions served by name and version (v1 fetches a config by the version it was told). */
  private readonly fromByKey = new Map<string, ConfigRecord | InstanceConfigRecord>();

  /** Whether some wave selects by address or host name: then an agent's membership depends on them too. */
  readonly usesAddress: boolean;
  /** Agents already served the new version of each config rolling by waves (index as byWaves). */
  private readonly noted: Set<string>[];

  constructor(
    readonly entries: readonly RollingConfig[],
    /** Told once per agent and config when an agent of the current waves is first served the new version. */
    private readonly onServed?: (kind: ConfigKind, name: string, instanceId: string) => void,
  ) {
    this.byWaves = entries.filter((e) => e.mode === "waves");
    this.pinned = entries.filter((e) => e.mode === "pinned");
    for (const e of entries) if (e.from) this.fromByKey.set(`${e.kind}\0${e.name}\0${e.from.version}`, e.from);
    this.noted = this.byWaves.map(() => new Set());
    this.usesAddress = this.byWaves.some(
      (e) => e.policy.waves.some((w) => w.kind === "select" && (w.ips.length > 0 || (w.hostnames?.length ?? 0) > 0)) || (e.fromGroups ?? []).some((g) => (g.ips?.length ?? 0) > 0 || (g.hostnames?.length ?? 0) > 0),
    );
  }

  /**
   * Records that the agent is being served the lists of `bits` made from `base`: for each config of
   * its waves that applies to it, it is sent the new version (the rollout's record of who received
   * it: one that stops heartbeating afterwards failed).
   */
  noteServed(instanceId: string, bits: string, base: Listed): void {
    if (this.onServed === undefined) return;
    for (let i = 0; i < bits.length; i++) {
      const bit = bits.charCodeAt(i);
      if (bit !== 49 && bit !== 51) continue;
      const seen = this.noted[i] as Set<string>;
      if (seen.has(instanceId)) continue;
      const e = this.byWaves[i] as RollingConfig;
      const list: readonly { readonly name: string; readonly version: number }[] = e.kind === "pipeline" ? base.configs : base.instances;
      const got = list.find((c) => c.name === e.name);
      if (got === undefined) continue;
      seen.add(instanceId);
      // "3": the groups of before gave it `from` too; the same version is no new version for it.
      if (bit === 51 && got.version === e.from?.version) continue;
      this.onServed(e.kind, e.name, instanceId);
    }
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /**
   * The agent's membership in the current waves of every config rolling by waves, as a short
   * string (the cache key of its applied lists gains it): inside the waves "1", or "3" when the
   * groups of before matched it too; outside "0" (it keeps `from`) or "2" (nothing: no group of
   * before matched it).
   */
  bits(instanceId: string, tags: AgentTags, address: AgentAddress | undefined): string {
    let s = "";
    const agent = { instanceId, tags, ip: address?.ip ?? "", hostname: address?.hostname ?? "" };
    for (const e of this.byWaves) {
      const had = e.fromGroups === undefined || e.fromGroups.some((g) => groupMatches(g, tags, address));
      if (e.wave > 0 && inWaves(e.policy, e.wave, e.name, agent, e.cuts)) s += had ? "3" : "1";
      else s += had ? "0" : "2";
    }
    return s;
  }

  /** The lists an agent with these `bits` is served, from the snapshot's lists for its tags. */
  apply<L extends Listed>(base: L, bits: string): L {
    let configs = base.configs;
    let instances = base.instances;
    const swap = (e: RollingConfig, bit: string | undefined) => {
      if (bit === "1" || bit === "3") return;
      const by = bit === "2" ? undefined : e.from;
      const add = e.fromGroups !== undefined;
      if (e.kind === "pipeline") configs = replaced(configs, e.name, by as ConfigRecord | undefined, add);
      else instances = replaced(instances, e.name, by as InstanceConfigRecord | undefined, add);
    };
    this.byWaves.forEach((e, i) => swap(e, bits[i]));
    for (const e of this.pinned) swap(e, "0");
    // Other lists (OpAMP agents' configs, which are not staged) as the commit has them.
    return { ...base, configs, instances };
  }

  /** The record of config `name` at `version` when a rollout serves that past version, else undefined. */
  pastVersion(kind: ConfigKind, name: string, version: number): ConfigRecord | InstanceConfigRecord | undefined {
    return this.fromByKey.get(`${kind}\0${name}\0${version}`);
  }
}

/**
 * `list` with config `name` replaced by `by` (removed when undefined); the same list when it has no
 * such config, unless `add` (a removal: the config is put back in its place by name).
 */
function replaced<T extends { readonly name: string }>(list: readonly T[], name: string, by: T | undefined, add = false): readonly T[] {
  const i = list.findIndex((c) => c.name === name);
  if (i < 0) {
    if (!add || by === undefined) return list;
    const at = list.findIndex((c) => c.name > name);
    const out = [...list];
    out.splice(at < 0 ? out.length : at, 0, by);
    return Object.freeze(out);
  }
  const out = [...list];
  if (by === undefined) out.splice(i, 1);
  else out[i] = by;
  return Object.freeze(out);
}

export const NO_OVERLAY = new RolloutOverlay([]);
