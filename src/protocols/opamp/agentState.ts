import { ApplyStatus, type AgentRecord, type ConfigReport } from "../../domain/agent.ts";
import { STATUS_KEYS, type EffectiveFile } from "../../domain/agentStatus.ts";
import { DomainError } from "../../domain/errors.ts";
import type { OpampFile } from "../../domain/opampConfigs.ts";
import type { opamp } from "../../gen/proto.js";
import { attributeText } from "./codec.ts";

type Description = opamp.proto.v1.IAgentDescription;

/** Bounds on what one agent says about itself (every input bounded). */
export const LIMITS = { attributes: 256, key: 256, value: 4096, effectiveFiles: 64, effectiveBodies: 64 * 1024, message: 4096 } as const;

/**
 * The agent's tags for group matching: every identifying and non-identifying attribute whose
 * value is a scalar, as text (identifying ones win a clash). A group tag {name, value} then
 * matches an agent whose attribute `name` has that value.
 */
export function tagsOf(d: Description): Record<string, string> {
  const named: Record<string, string> = {};
  const ids = d.identifying_attributes ?? [];
  const others = d.non_identifying_attributes ?? [];
  if (ids.length + others.length > LIMITS.attributes) throw new DomainError("BadRequest", `agent_description has ${ids.length + others.length} attributes; at most ${LIMITS.attributes} are accepted.`);
  for (const kv of [...others, ...ids]) {
    const key = kv.key ?? "";
    const value = attributeText(kv.value);
    if (key === "" || value === undefined) continue;
    if (key.length > LIMITS.key) throw new DomainError("BadRequest", `agent_description attribute name ${JSON.stringify(key.slice(0, 40))}… is longer than ${LIMITS.key} characters.`);
    if (value.length > LIMITS.value) throw new DomainError("BadRequest", `agent_description attribute ${JSON.stringify(key)} has a value longer than ${LIMITS.value} characters.`);
    named[key] = value;
  }
  return named;
}

const clip = (s: string) => (s.length > LIMITS.message ? `${s.slice(0, LIMITS.message)}…` : s);

/** Health as the status keys keep it. */
export function healthExtras(h: opamp.proto.v1.IComponentHealth, into: Record<string, string>): void {
  into[STATUS_KEYS.health] = h.healthy ? "true" : "false";
  into[STATUS_KEYS.healthStatus] = clip(h.status ?? "");
  into[STATUS_KEYS.lastError] = clip(h.last_error ?? "");
}

/**
 * The effective config as kept: each file's content type and size, and its body while the bodies
 * kept stay under LIMITS.effectiveBodies (a Collector's whole configuration is a few KiB; a larger
 * one is listed without its body, and its drift is "unknown").
 */
export function effectiveText(e: opamp.proto.v1.IEffectiveConfig): string {
  const map = e.config_map?.config_map ?? {};
  const names = Object.keys(map).sort();
  if (names.length > LIMITS.effectiveFiles) throw new DomainError("BadRequest", `effective_config has ${names.length} files; at most ${LIMITS.effectiveFiles} are accepted.`);
  const out: Record<string, EffectiveFile> = {};
  let kept = 0;
  for (const name of names) {
    const f = map[name] as opamp.proto.v1.IAgentConfigFile;
    const body = f.body ?? new Uint8Array(0);
    const contentType = clip(f.content_type ?? "");
    if (kept + body.length <= LIMITS.effectiveBodies) {
      kept += body.length;
      out[name] = { contentType, size: body.length, body: Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8") };
    } else {
      out[name] = { contentType, size: body.length };
    }
  }
  return shared(JSON.stringify(out));
}

/**
 * A fleet's Collectors mostly run the same configuration: an effective config equal to one kept
 * recently is the same string object, so 10,000 agents running one configuration hold it once
 * (and the registry's comparison of a repeated report is an identity check). Bounded by entries
 * and bytes; past them the cache starts over (each agent then holds its own copy until seen again).
 */
const MAX_SHARED = 1000;
const MAX_SHARED_CHARS = 16 * 1024 * 1024;
const sharedTexts = new Map<string, string>();
let sharedChars = 0;

function shared(text: string): string {
  const known = sharedTexts.get(text);
  if (known !== undefined) return known;
  if (sharedTexts.size >= MAX_SHARED || sharedChars + text.length > MAX_SHARED_CHARS) {
    sharedTexts.clear();
    sharedChars = 0;
  }
  sharedTexts.set(text, text);
  sharedChars += text.length;
  return text;
}

const STATUS_NAMES = ["UNSET", "APPLIED", "APPLYING", "FAILED"] as const;
/** RemoteConfigStatuses (UNSET 0, APPLIED 1, APPLYING 2, FAILED 3) → the domain's ApplyStatus. */
const TO_APPLY: Record<string, ApplyStatus> = { UNSET: ApplyStatus.UNSET, APPLIED: ApplyStatus.APPLIED, APPLYING: ApplyStatus.APPLYING, FAILED: ApplyStatus.FAILED };

export function remoteStatusExtras(s: opamp.proto.v1.IRemoteConfigStatus, into: Record<string, string>): void {
  const hash = s.last_remote_config_hash ?? new Uint8Array(0);
  if (hash.length > 64) throw new DomainError("BadRequest", `remote_config_status.last_remote_config_hash is ${hash.length} bytes; a config hash this server sends is 32.`);
  into[STATUS_KEYS.remoteHash] = Buffer.from(hash.buffer, hash.byteOffset, hash.length).toString("hex");
  into[STATUS_KEYS.remoteStatus] = STATUS_NAMES[s.status ?? 0] ?? "UNSET";
  into[STATUS_KEYS.remoteError] = clip(s.error_message ?? "");
}

/** The per-config reports of a map the agent reports a status for: every file of it, with that status. */
export function reportsOf(files: readonly OpampFile[], extras: Readonly<Record<string, string>>): readonly ConfigReport[] {
  const status = TO_APPLY[extras[STATUS_KEYS.remoteStatus] ?? "UNSET"] ?? ApplyStatus.UNSET;
  const message = status === ApplyStatus.FAILED ? extras[STATUS_KEYS.remoteError] ?? "" : "";
  return files.map((f) => ({ name: f.name, version: f.version, status, message }));
}

/** Whether the record already holds these reports (most requests: then nothing is written). */
export function sameReports(record: AgentRecord | undefined, reports: readonly ConfigReport[]): boolean {
  const old = record?.pipelines;
  if (old === undefined || old.length !== reports.length) return false;
  for (let i = 0; i < old.length; i++) {
    const a = old[i] as ConfigReport;
    const b = reports[i] as ConfigReport;
    if (a.name !== b.name || a.version !== b.version || a.status !== b.status || a.message !== b.message) return false;
  }
  return true;
}
