import { createHash } from "node:crypto";
import { opampFiles, type OpampFile } from "../../domain/opampConfigs.ts";
import type { RepoState } from "../../domain/repoState.ts";
import type { ConfigRecord } from "../../domain/types.ts";

/** One distinct config map of a snapshot, made once and shared by every agent that receives it. */
export interface ServedMap {
  readonly files: readonly OpampFile[];
  readonly hash: Uint8Array;
  readonly hex: string;
  /** `ServerToAgent.remote_config` as encoded. */
  readonly remoteConfig: { readonly config: { readonly config_map: Record<string, { body: Uint8Array; content_type: string }> }; readonly config_hash: Uint8Array };
}

/**
 * The hash of a map: SHA-256 over its files in name order (name, content type, body, each with its
 * length). It depends on nothing but the files, so it changes only when the map does: a commit
 * touching other configs, another replica or a restart computes the same bytes.
 */
function hashOf(files: readonly OpampFile[]): Buffer {
  const h = createHash("sha256");
  for (const f of files) {
    for (const part of [f.name, f.contentType, f.body]) {
      const bytes = Buffer.from(part, "utf8");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length);
      h.update(len).update(bytes);
    }
  }
  return h.digest();
}

function build(configs: readonly ConfigRecord[]): ServedMap {
  const files = opampFiles(configs);
  const hash = hashOf(files);
  const config_map: Record<string, { body: Uint8Array; content_type: string }> = {};
  for (const f of files) config_map[f.name] = { body: Buffer.from(f.body, "utf8"), content_type: f.contentType };
  return Object.freeze({ files, hash, hex: hash.toString("hex"), remoteConfig: Object.freeze({ config: Object.freeze({ config_map }), config_hash: hash }) });
}

/**
 * Maps per snapshot: by applied list (one per tag set, frozen with the snapshot), then by the
 * configs' names within the snapshot (tag sets that receive the same configs share one map), so
 * a map and its hash are computed once per snapshot per distinct map, never per request.
 */
const byList = new WeakMap<readonly ConfigRecord[], ServedMap>();
const byState = new WeakMap<RepoState, Map<string, ServedMap>>();

export function servedMap(state: RepoState, configs: readonly ConfigRecord[]): ServedMap {
  let map = byList.get(configs);
  if (map !== undefined) return map;
  let named = byState.get(state);
  if (named === undefined) byState.set(state, (named = new Map()));
  const key = configs.map((c) => c.name).join("\0");
  map = named.get(key);
  if (map === undefined) {
    named.set(key, (map = build(configs)));
    remember(map);
  }
  byList.set(configs, map);
  return map;
}

/**
 * Maps recently served, by hash: an agent reports the hash of what it applied, perhaps a map
 * of an earlier snapshot; its configs (and their versions) are found here. Bounded: a hash not
 * found is one whose report is not attributed to configs (the agent still shows its status).
 */
const MAX_KNOWN = 4096;
const known = new Map<string, readonly OpampFile[]>();

function remember(map: ServedMap): void {
  known.delete(map.hex);
  known.set(map.hex, map.files);
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value as string);
}

/** The files of a map served with this hash (hex), when it is still remembered. */
export function filesOfHash(hex: string): readonly OpampFile[] | undefined {
  return known.get(hex);
}
