import type { AgentTags, ConfigReport, Heartbeat } from "../domain/agent.ts";
import { sameTags, tagsKey } from "../domain/matching.ts";
import { sameReports } from "../domain/sameReports.ts";
import { NO_REPORTS } from "./agentCodec.ts";

/** Short strings many agents repeat (agent type, version, running status) are kept once. */
const MAX_INTERNED = 1000;
const MAX_INTERNED_LENGTH = 256;
const MAX_REPORT_SETS = 10_000;
const MAX_REPORT_KEY_BYTES = 16 * 1024 * 1024;

/** One distinct tag set, shared by every agent that reports it (a fleet has few of them). */
interface TagSet {
  readonly key: string;
  readonly tags: AgentTags;
  /** Agents whose latest heartbeat has this set: the set is forgotten when none has. */
  refs: number;
}

/**
 * What a fleet repeats, kept once: short strings, tag sets (counted, forgotten with their last
 * agent), report lists (by content), attribute objects (while unchanged). Tens of thousands of
 * agents then hold a few shared values, and repeated heartbeats allocate nothing the collector
 * must promote. Everything agents choose is bounded (length, count, bytes).
 */
export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly tagSets = new Map<string, TagSet>();
  /** Report lists by content, shared by the agents that report the same one. */
  private readonly reportSets = new Map<string, readonly ConfigReport[]>();
  private reportKeyBytes = 0;

  string(s: string): string {
    // Only short strings: agents choose these, and a thousand 4 MiB ones must not be kept for good.
    if (s.length > MAX_INTERNED_LENGTH) return s;
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size < MAX_INTERNED) this.strings.set(s, s);
    return s;
  }

  /**
   * The shared set for `next`, its key written to `holder.tagsKey`; `old` (the holder's previous
   * tags, or undefined) is released. Most heartbeats repeat the same tags: the old set is kept
   * rather than its key rebuilt.
   */
  tags(holder: { tagsKey: string }, old: AgentTags | undefined, next: AgentTags): AgentTags {
    if (old && sameTags(old, next)) return old;
    if (old) this.release(holder.tagsKey);
    const key = tagsKey(next);
    let set = this.tagSets.get(key);
    if (set === undefined) this.tagSets.set(key, (set = { key, tags: freezeTags(next), refs: 0 }));
    set.refs++;
    holder.tagsKey = set.key;
    return set.tags;
  }

  /** An agent no longer holds the tag set with this key. */
  release(key: string): void {
    const set = this.tagSets.get(key);
    if (set !== undefined && --set.refs <= 0) this.tagSets.delete(key);
  }

  /** A fleet repeats its attributes: the previous object is kept while nothing changed. */
  attributes(old: Heartbeat["attributes"] | undefined, a: Heartbeat["attributes"]): Heartbeat["attributes"] {
    return old && old.agentType === a.agentType && old.version === a.version && old.ip === a.ip && old.hostname === a.hostname && sameStrings(old.extras, a.extras)
      ? old
      : { agentType: this.string(a.agentType), version: this.string(a.version), ip: a.ip, hostname: a.hostname, extras: a.extras };
  }

  /** `old` when `reports` say the same (agents repeat their report every few seconds), else the shared list with this content. */
  reports(old: readonly ConfigReport[], reports: readonly ConfigReport[]): readonly ConfigReport[] {
    if (sameReports(old, reports)) return old;
    if (reports.length === 0) return NO_REPORTS;
    let key = "";
    for (const c of reports) key += `${c.name}\u0000${c.version}\u0000${c.status}\u0000${c.message}\u0001`;
    const known = this.reportSets.get(key);
    if (known !== undefined) return known;
    // Bounded by entries and bytes: report lists come from agents (messages are theirs to choose).
    if (this.reportSets.size >= MAX_REPORT_SETS || this.reportKeyBytes + key.length > MAX_REPORT_KEY_BYTES) {
      this.reportSets.clear();
      this.reportKeyBytes = 0;
    }
    const frozen = Object.freeze(reports.map((c) => Object.freeze({ ...c })));
    this.reportSets.set(key, frozen);
    this.reportKeyBytes += key.length;
    return frozen;
  }
}

function freezeTags(tags: AgentTags): AgentTags {
  const named = Object.freeze({ ...tags.named });
  return Object.freeze(tags.values === undefined ? { named } : { named, values: Object.freeze([...tags.values]) });
}

function sameStrings(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}
