// The shapes of the JSON API answers the console reads (docs/api.md, docs/console.md).

export interface Problem {
  readonly file?: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface Status {
  readonly commit: string | null;
  readonly committedAt: string | null;
  readonly depth: number;
  readonly configs: number;
  readonly groups: number;
  readonly agents: number;
  readonly agentsByProtocol: Record<string, number>;
  readonly instanceConfigs: number;
  readonly notForV2: readonly { name: string; kind: string; problem: string }[];
  readonly readOnly: boolean;
  readonly writer: { mode: string; reason?: string };
  readonly refused: { commit: string; problems: readonly Problem[] } | null;
  readonly dirty: readonly string[];
  readonly remote: { url: string; branch: string } | null;
  readonly lastSync: { at: string; ok: boolean; action: string; error?: string } | null;
  readonly lastFetchError: string | null;
  readonly lastPushError: string | null;
  readonly refusedRewrite: string | null;
}

export interface Commit {
  readonly commit: string;
  readonly author: string;
  readonly authorEmail: string;
  readonly authoredAt: string;
  readonly committedAt: string;
  readonly subject: string;
  readonly body: string;
}

export interface Fleet {
  readonly agents: number;
  readonly late: number;
  readonly failed: number;
  readonly byProtocol: Record<string, number>;
  readonly byVersion: readonly { version: string; agents: number }[];
}

export interface ConfigItem {
  readonly name: string;
  readonly agentType?: string;
  readonly description: string;
  readonly content: string;
  readonly version: number;
  readonly commit: string;
  readonly groups: readonly string[];
  readonly notForV2: string | null;
}

/** GET /api/v1/configs/NAME/rollout answers the server's own Rollout (src/domain/rollout.ts). */
export type { Rollout } from "../../src/domain/rollout.ts";

/** One entry of GET /api/v1/configs/NAME/history: the server's own JSON shape (src/domain/configVersion.ts). */
import type { ConfigVersionJson as HistoryEntry } from "../../src/domain/configVersion.ts";
export type { HistoryEntry };

export interface Diff {
  readonly from: HistoryEntry | null;
  readonly to: HistoryEntry;
  readonly fields: readonly { field: string; before: string; after: string }[];
  readonly lines: readonly { op: " " | "-" | "+"; text: string; oldLine: number | null; newLine: number | null }[];
  readonly added: number;
  readonly removed: number;
}

export interface Tag {
  readonly name: string;
  readonly value: string;
}

export interface Group {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly Tag[];
  readonly configs: readonly string[];
  readonly instanceConfigs: readonly string[];
  readonly agents: number;
  readonly lateAgents: number;
}

export interface AgentSummary {
  readonly agentId: string;
  readonly protocol: string | null;
  readonly agentType: string | null;
  readonly version: string | null;
  readonly ip: string | null;
  readonly hostname: string | null;
  readonly tags: Record<string, string>;
  readonly tagValues?: readonly string[];
  readonly runningStatus: string | null;
  readonly latestHeartbeatAt: string | null;
  readonly lastSeenAt: string | null;
  readonly late: boolean;
  readonly alarmCount: number;
}

export interface ConfigReport {
  readonly name: string;
  readonly version: number;
  readonly status: string;
  readonly message: string;
}

export interface AgentDetail extends AgentSummary {
  readonly attributes: Record<string, string>;
  readonly groups: readonly string[];
  readonly intervalSeconds: number | null;
  readonly statistics: { cpu: number; memory: string; extras: Record<string, string> } | null;
  readonly alarms: readonly { type: string; detail: string; at: string | null }[];
  readonly pipelineConfigs: readonly ConfigReport[];
  readonly instanceConfigs: readonly ConfigReport[];
  readonly configsReportedAt: string | null;
  readonly startupTime: number | null;
  /** OpAMP agents only. */
  readonly capabilities?: readonly string[];
  readonly health?: { healthy: boolean; status: string; lastError: string } | null;
  readonly remoteConfig?: { hash: string; status: string; error: string; sentHash: string } | null;
  readonly drift?: { state: "none" | "drift" | "unknown"; files: readonly { name: string; state: string }[]; unmanaged: readonly string[] };
}

export interface Validation {
  readonly valid: boolean;
  readonly path: string;
  readonly problems: readonly Problem[];
  readonly warnings: readonly Problem[];
  readonly exists?: boolean;
  readonly changed?: boolean;
  readonly config?: { configName: string; agentType: string; description: string; content: string };
  /** The parsed group; `instanceConfigs` is absent when the file has no such list. */
  readonly group?: Omit<Group, "instanceConfigs"> & { readonly instanceConfigs?: readonly string[] };
}

/** One entry of GET /api/v1/changes: the server's own shape (src/domain/recentChanges.ts). */
export type { RecentChange } from "../../src/domain/recentChanges.ts";

/** One rollout of GET /api/v1/rollouts: the server's own JSON shape (src/rollouts/rolloutView.ts). */
import type { rolloutView } from "../../src/rollouts/rolloutView.ts";
export type RolloutRun = ReturnType<typeof rolloutView>;
