import type { AgentRecord } from "./agent.ts";
import type { OpampFile } from "./opampConfigs.ts";

/**
 * What an OpAMP agent says about itself beyond a heartbeat (health, the configuration it runs,
 * how its remote config went), kept in the protocol-neutral record's attribute extras under these
 * keys. Extras travel with the heartbeat everywhere a record goes (Redis, replicas, workers), so
 * another replica answering the agent knows what it was sent and what it last reported.
 */
export const STATUS_KEYS = {
  health: "opamp.health",
  healthStatus: "opamp.health.status",
  lastError: "opamp.health.lastError",
  effectiveConfig: "opamp.effectiveConfig",
  remoteHash: "opamp.remoteConfig.hash",
  remoteStatus: "opamp.remoteConfig.status",
  remoteError: "opamp.remoteConfig.error",
  sentHash: "opamp.remoteConfig.sentHash",
} as const;
const PREFIX = "opamp.";

/** Attribute extras without the status keys (what the agent API lists as attributes). */
export function plainExtras(extras: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in extras) if (!k.startsWith(PREFIX)) out[k] = extras[k] as string;
  return out;
}

/** One file of the configuration an agent says it runs; `body` is absent when it was over the kept size. */
export interface EffectiveFile {
  readonly contentType: string;
  readonly size: number;
  readonly body?: string;
}

export type EffectiveConfig = Readonly<Record<string, EffectiveFile>>;

/** The effective config kept for an agent (undefined when it never reported one). */
export function effectiveConfigOf(record: AgentRecord): EffectiveConfig | undefined {
  const text = record.heartbeat?.attributes.extras[STATUS_KEYS.effectiveConfig];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as EffectiveConfig;
  } catch {
    return undefined;
  }
}

export interface AgentHealth {
  readonly healthy: boolean;
  readonly status: string;
  readonly lastError: string;
}

export function healthOf(record: AgentRecord): AgentHealth | undefined {
  const x = record.heartbeat?.attributes.extras;
  const h = x?.[STATUS_KEYS.health];
  if (x === undefined || h === undefined) return undefined;
  return { healthy: h === "true", status: x[STATUS_KEYS.healthStatus] ?? "", lastError: x[STATUS_KEYS.lastError] ?? "" };
}

export interface RemoteConfigState {
  /** The hash the agent last reported, hex ("" when none). */
  readonly hash: string;
  readonly status: string;
  readonly error: string;
  /** The hash of the map the server last sent it, hex ("" when none). */
  readonly sentHash: string;
}

export function remoteConfigOf(record: AgentRecord): RemoteConfigState | undefined {
  const x = record.heartbeat?.attributes.extras;
  if (x === undefined || record.heartbeat?.protocol !== "opamp") return undefined;
  return { hash: x[STATUS_KEYS.remoteHash] ?? "", status: x[STATUS_KEYS.remoteStatus] ?? "UNSET", error: x[STATUS_KEYS.remoteError] ?? "", sentHash: x[STATUS_KEYS.sentHash] ?? "" };
}

/** Where one expected file stands in what the agent runs. */
export type FileDrift = "same" | "differs" | "missing" | "unknown";

export interface Drift {
  /** "none": every file git says the agent should run is in its effective config as written; "drift": one is not; "unknown": no effective config reported. */
  readonly state: "none" | "drift" | "unknown";
  readonly files: readonly { readonly name: string; readonly state: FileDrift }[];
  /** Files the agent runs that no config of the repository gives it (local configuration: listed, not drift). */
  readonly unmanaged: readonly string[];
}

/**
 * Compares what git says the agent should run (the files of its config map) with the effective
 * config it reports, file by file and byte for byte: a file kept without its body (over the kept
 * size) is "unknown", not drift.
 */
export function driftOf(expected: readonly OpampFile[], effective: EffectiveConfig | undefined): Drift {
  if (effective === undefined) return { state: "unknown", files: expected.map((f) => ({ name: f.name, state: "unknown" as const })), unmanaged: [] };
  const files = expected.map((f) => {
    const e = Object.hasOwn(effective, f.name) ? effective[f.name] : undefined;
    const state: FileDrift = e === undefined ? "missing" : e.body === undefined ? "unknown" : e.body === f.body ? "same" : "differs";
    return { name: f.name, state };
  });
  const names = new Set(expected.map((f) => f.name));
  const unmanaged = Object.keys(effective).filter((n) => !names.has(n)).sort();
  return { state: files.some((f) => f.state === "differs" || f.state === "missing") ? "drift" : "none", files, unmanaged };
}

/** OpAMP agent capability bits by name (the spec's AgentCapabilities). */
const CAPABILITY_NAMES = [
  "ReportsStatus", "AcceptsRemoteConfig", "ReportsEffectiveConfig", "AcceptsPackages", "ReportsPackageStatuses", "ReportsOwnTraces",
  "ReportsOwnMetrics", "ReportsOwnLogs", "AcceptsOpAMPConnectionSettings", "AcceptsOtherConnectionSettings", "AcceptsRestartCommand",
  "ReportsHealth", "ReportsRemoteConfig", "ReportsHeartbeat", "ReportsAvailableComponents", "ReportsConnectionSettingsStatus",
] as const;

/** An OpAMP agent's capability bits as names (unknown bits as `bit<N>`). */
export function capabilityNames(bits: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < 53 && 2 ** i <= bits; i++) if (Math.floor(bits / 2 ** i) % 2 === 1) out.push(CAPABILITY_NAMES[i] ?? `bit${i}`);
  return out;
}
