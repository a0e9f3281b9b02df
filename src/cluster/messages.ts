import type { MetricObjectWithValues, MetricValue } from "prom-client";
import type { ChangeBatch } from "../agents/replication.ts";
import type { RollingConfig } from "../domain/rolloutOverlay.ts";
import type { Settings } from "../settings/options.ts";
import type { SnapshotMessage } from "./snapshotWire.ts";

/** The settings a worker runs with (the primary resolved them once, from flags, environment and file). */
export type WorkerSettings = Pick<Settings, "host" | "port" | "logLevel" | "bodyLimit" | "requestTimeoutMs" | "agentTtlMs" | "shutdownTimeoutMs" | "agentToken" | "agentNetworks" | "agentBodyLimit" | "maxAgents" | "v2ConfigDetails" | "v2LongPollMs">;

/** What a worker tells about itself with every flush (it shows in /status). */
export interface WorkerReport {
  readonly requests: number;
  readonly heldHeartbeats: number;
  readonly rssBytes: number;
}

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Primary → worker, over node:cluster's IPC channel (one ordered channel per worker, the one
 * node:cluster also hands connections over).
 *
 * - init: the settings, the socket to forward to and the served snapshot, whole; then `changes`
 *   batches with the whole fleet, then `listen`.
 * - changes: another worker's agent changes (or the primary's copy of agents this one lacks).
 * - snapshot: a new commit is served (with the rollouts' overlay). rollouts: the overlay changed
 *   between commits (a wave advanced, a revert pinned a config). resend: the primary lacks these agents; send them whole.
 * - flush: send what is pending now (a listing waits for it). metrics: this worker's metrics.
 * - shutdown: stop accepting, finish in flight within `boundMs`, exit.
 * - fenced: the answer to fence, sent after every change the primary had read before it.
 */
export type ToWorker =
  | { readonly t: "init"; readonly settings: WorkerSettings; readonly socketPath: string; readonly snapshot: SnapshotMessage }
  | { readonly t: "changes"; readonly batch: ChangeBatch }
  | { readonly t: "listen" }
  | { readonly t: "snapshot"; readonly snapshot: SnapshotMessage }
  | { readonly t: "rollouts"; readonly entries: readonly RollingConfig[] }
  | { readonly t: "resend"; readonly ids: readonly string[] }
  | { readonly t: "flush"; readonly n: number }
  | { readonly t: "metrics"; readonly n: number }
  | { readonly t: "shutdown"; readonly boundMs: number }
  | { readonly t: "fenced"; readonly n: number };

/**
 * Worker → primary.
 *
 * - ready: it listens for messages (init may come). listening / failed: its HTTP server's start.
 * - changes: its agents' changes. rolloutServed: agents it first served a rollout's new version
 *   (kind, config name, instance id), for the primary's rollout controller. missing: a batch named agents it has no record of.
 * - served: it serves this commit. stale: a snapshot change came for another commit than its own.
 * - flushed / metrics: the answers to flush and metrics.
 * - bye: the last message before it exits (sent so that it exits only once the others are written).
 * - fence: a request named an agent this worker does not know; answered `fenced` once every
 *   change the primary read before it has been passed on to this worker (the request is then
 *   handled again).
 */
export type FromWorker =
  | { readonly t: "ready" }
  | { readonly t: "listening"; readonly port: number }
  | { readonly t: "failed"; readonly error: { readonly message: string; readonly code?: string | undefined; readonly syscall?: string | undefined } }
  | { readonly t: "changes"; readonly batch: ChangeBatch }
  | { readonly t: "rolloutServed"; readonly served: readonly (readonly ["pipeline" | "instance", string, string])[] }
  | { readonly t: "missing"; readonly ids: readonly string[] }
  | { readonly t: "served"; readonly commit: string; readonly report: WorkerReport }
  | { readonly t: "stale" }
  | { readonly t: "flushed"; readonly n: number; readonly report: WorkerReport }
  | { readonly t: "metrics"; readonly n: number; readonly metrics: MetricsJson }
  | { readonly t: "bye" }
  | { readonly t: "fence"; readonly n: number };
