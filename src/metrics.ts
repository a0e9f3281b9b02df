import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { AgentRegistry } from "./domain/registry.ts";
import { unhandledRejections } from "./crashGuard.ts";
import { droppedLogLines } from "./logger.ts";
import { RequestMetrics } from "./requestMetrics.ts";
import type { StoreStatus } from "./store/storeStatus.ts";

export interface MetricsOptions {
  /** process_* and nodejs_* metrics (CPU, memory, event loop lag, GC); default true. */
  readonly processMetrics?: boolean;
  /** Unix ms, for the served commit's age. */
  readonly now?: () => number;
}

/** One rollout as the rollout gauges read it at scrape time. */
export interface RolloutGauge {
  readonly config: string;
  readonly kind: string;
  readonly state: string;
  readonly wave: number;
  /** Agents that failed the new version (FAILED, or gone after receiving it), all waves. */
  readonly failedAgents: number;
}

const ROLLOUT_STATES = ["progressing", "paused", "halted", "reverted", "completed"] as const;
/** States whose rollout still stands at a wave an operator may act on: these get the per-config gauges. */
const OPEN_STATES = new Set(["progressing", "paused", "halted"]);

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SLOW_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The server's Prometheus metrics, in their own Registry (never prom-client's global one, so
 * several servers in one process, as in the tests, do not collide). Scraped at GET /metrics.
 *
 * Other parts of the server report through the small methods below; gauges of the current
 * state (agents, configs, served commit) are read at scrape time from what `watch` was given.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: RequestMetrics;
  private readonly syncs: Counter<"result">;
  private readonly lastSync: Gauge<"result">;
  private readonly reload: Histogram;
  private readonly rolloutEvaluations: Histogram;
  private readonly writes: Histogram<"result">;
  private readonly refused: Counter;
  private readonly notifications: Counter<"result" | "type">;
  private readonly agentsRefused: Counter;
  private readonly now: () => number;
  private store: StoreStatus | undefined;
  private agents: AgentRegistry | undefined;
  private rollouts: (() => readonly RolloutGauge[]) | undefined;
  private peers: (() => Promise<MetricObjectWithValues<MetricValue<string>>[][]>) | undefined;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.now = options.now ?? Date.now;
    this.requests = new RequestMetrics(this.registry, {
      counter: "configserver_http_requests_total", counterHelp: "HTTP requests by route, protocol code (or HTTP status for non-protocol routes) and protocol (alpha, v1, v2, user, none).",
      histogram: "configserver_http_request_duration_seconds", histogramHelp: "HTTP request latency by route, protocol code and protocol.",
    }, LATENCY_BUCKETS);
    this.syncs = new Counter({ name: "configserver_syncs_total", help: "Syncs with the remote (or rereads of HEAD without one), by result (ok, error).", labelNames: ["result"], registers });
    this.lastSync = new Gauge({ name: "configserver_last_sync_timestamp_seconds", help: "When the last sync ended, by result (ok, error), unix seconds.", labelNames: ["result"], registers });
    this.reload = new Histogram({ name: "configserver_snapshot_reload_seconds", help: "Time to build the served snapshot of a new commit.", buckets: SLOW_BUCKETS, registers });
    this.writes = new Histogram({ name: "configserver_write_duration_seconds", help: "User API writes from planning to the new commit being served (excluding time queued behind other writes), by result (committed, unchanged, failed).", labelNames: ["result"], buckets: SLOW_BUCKETS, registers });
    this.rolloutEvaluations = new Histogram({ name: "configserver_rollout_evaluation_seconds", help: "Time one evaluation of every rollout in progress took (the fleet read once, each rollout's waves and health); evaluations are spaced to take at most a twentieth of the process's time.", buckets: SLOW_BUCKETS, registers });
    this.refused = new Counter({ name: "configserver_refused_commits_total", help: "Commits that failed validation and were not served.", registers });
    this.notifications = new Counter({
      name: "configserver_notifications_total", labelNames: ["result", "type"], registers,
      help: "Events for --notify-url receivers, per URL, by result (sent: delivered; failed: given up after the attempts or refused by the receiver; dropped: too many waiting for the URL, or the server stopping) and event type.",
    });
    this.agentsRefused = new Counter({ name: "configserver_agents_refused_total", help: "Requests of new agents refused because the server already knows --max-agents agents.", registers });

    const self = this;
    const gauge = (name: string, help: string, read: () => number | undefined | Promise<number | undefined>) =>
      new Gauge({ name, help, registers, async collect() { const v = await read(); if (v === undefined) this.reset(); else this.set(v); } });
    gauge("configserver_agents_known", "Agents in memory (heartbeat, statistics or alarms seen within the TTL).", () => self.agents && (self.agents.sweep(), self.agents.size));
    gauge("configserver_agents_live", "Agents with a heartbeat within the TTL (what ListAgents of default shows).", () => self.agents?.liveCount());
    gauge("configserver_fleet_view_degraded", "1 while the shared fleet view (--registry redis://) is degraded: Redis unreachable, slow or failing, or too many agent changes waiting; listings then answer what this replica knows.", () => self.agents && (self.agents.status().degraded ? 1 : 0));
    gauge("configserver_registry_pending_writes", "Agents whose changes wait to be written to the shared registry.", () => self.agents?.status().pendingWrites);
    new Counter({
      name: "configserver_registry_dropped_writes_total", help: "Agent changes dropped because too many were waiting for the shared registry (refilled from the local cache when it is back).", registers,
      collect() { const n = self.agents?.status().droppedWrites; this.reset(); if (n) this.inc(n); },
    });
    gauge("configserver_configs", "Configs in the served commit.", () => self.store?.state.configs.size);
    gauge("configserver_groups", "Agent groups in the served commit (including default).", () => self.store?.state.groups.size);
    gauge("configserver_served_commit_timestamp_seconds", "Commit time of the served commit, unix seconds.", () => (self.store?.state.committedAt ? self.store.state.committedAt / 1000 : undefined));
    gauge("configserver_served_commit_age_seconds", "Age of the served commit (now minus its commit time).", () => (self.store?.state.committedAt ? Math.max(0, (self.now() - self.store.state.committedAt) / 1000) : undefined));
    gauge("configserver_head_refused", "1 while the repository's HEAD fails validation (the previous commit stays served).", () => (self.store ? (self.store.refused ? 1 : 0) : undefined));
    new Counter({
      name: "configserver_log_lines_dropped_total", help: "Log lines dropped because stdout was full (a reader not keeping up) or closed; logging never blocks the server.", registers,
      collect() { this.reset(); this.inc(droppedLogLines()); },
    });
    gauge("configserver_sync_blocked", "1 while the last sync could not move the working tree because uncommitted edits of files the remote changed are in the way (see /status lastSync).", () => (self.store ? (self.store.lastSync?.blocked?.length ? 1 : 0) : undefined));
    new Counter({
      name: "configserver_unhandled_rejections_total", help: "Promise rejections nothing handled: each is a bug, logged at error; the server keeps running.", registers,
      collect() { this.reset(); const n = unhandledRejections(); if (n) this.inc(n); },
    });
    new Gauge({
      name: "configserver_served_commit_info", help: "The served commit, as a label.", labelNames: ["commit"], registers,
      collect() { this.reset(); const c = self.store?.state.commit; if (c) this.set({ commit: c }, 1); },
    });
    new Gauge({
      name: "configserver_rollouts", help: "Rollouts the server keeps (in progress, and the last 100 ended), by state (progressing, paused, halted, reverted, completed).", labelNames: ["state"], registers,
      collect() {
        this.reset();
        if (!self.rollouts) return;
        const counts = new Map<string, number>(ROLLOUT_STATES.map((st) => [st, 0]));
        for (const r of self.rollouts()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "configserver_rollout_wave", help: "The wave a rollout stands at (1 is the first), per config with a rollout progressing, paused or halted; kind: pipeline or instance.", labelNames: ["config", "kind"], registers,
      collect() { this.reset(); for (const r of self.rollouts?.() ?? []) if (OPEN_STATES.has(r.state)) this.set({ config: r.config, kind: r.kind }, r.wave); },
    });
    new Gauge({
      name: "configserver_rollout_failed_agents", help: "Agents that failed a rollout's new version (reported FAILED, or stopped heartbeating after receiving it), per config with a rollout progressing, paused or halted.", labelNames: ["config", "kind"], registers,
      collect() { this.reset(); for (const r of self.rollouts?.() ?? []) if (OPEN_STATES.has(r.state)) this.set({ config: r.config, kind: r.kind }, r.failedAgents); },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * With --workers: /metrics answers for the whole server, this process's metrics and its
   * workers' (`peers`) aggregated by prom-client (counters and histograms summed, and each
   * default metric as prom-client aggregates it across a cluster).
   */
  aggregateWith(peers: () => Promise<MetricObjectWithValues<MetricValue<string>>[][]>, counts: { workers: () => number; restarts: () => number }): void {
    this.peers = peers;
    const registers = [this.registry];
    new Gauge({ name: "configserver_workers", help: "Worker processes answering agents (--workers).", registers, collect() { this.set(counts.workers()); } });
    new Counter({ name: "configserver_worker_restarts_total", help: "Worker processes started again after one exited or was killed.", registers, collect() { this.reset(); const n = counts.restarts(); if (n) this.inc(n); } });
  }

  /** What the state gauges read at scrape time. */
  /** A new agent was refused (--max-agents). */
  agentRefused(): void {
    this.agentsRefused.inc();
  }

  watch(sources: { store?: StoreStatus; registry?: AgentRegistry; rollouts?: () => readonly RolloutGauge[] }): void {
    if (sources.store) this.store = sources.store;
    if (sources.rollouts) this.rollouts = sources.rollouts;
    if (sources.registry) this.agents = sources.registry;
  }

  /** One HTTP request. `route` is the route's pattern, `code` the protocol code, `protocol` its protocol: all from small fixed sets. */
  request(route: string, code: string, seconds: number, protocol = "none"): void {
    this.requests.observe(route, code, protocol, seconds);
  }

  /** One sync attempt ended (StoreEvents.onSynced). */
  syncCompleted(ok: boolean): void {
    const result = ok ? "ok" : "error";
    this.syncs.inc({ result });
    this.lastSync.set({ result }, this.now() / 1000);
  }

  /** A new snapshot is served (StoreEvents.onServed). */
  snapshotServed(reloadMs: number): void {
    this.reload.observe(reloadMs / 1000);
  }

  /** One evaluation of the rollouts in progress (none counted when no rollout progresses). */
  rolloutsEvaluated(ms: number): void {
    this.rolloutEvaluations.observe(ms / 1000);
  }

  /** HEAD failed validation (StoreEvents.onRefused). */
  commitRefused(): void {
    this.refused.inc();
  }

  /** One event's delivery to one --notify-url ended. */
  notification(result: "sent" | "failed" | "dropped", type: string): void {
    this.notifications.inc({ result, type });
  }

  /** One User API write ended. */
  writeCompleted(result: "committed" | "unchanged" | "failed", seconds: number): void {
    this.writes.observe({ result }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition. */
  async text(): Promise<string> {
    if (this.peers === undefined) return this.registry.metrics();
    const [own, peers] = await Promise.all([this.registry.getMetricsAsJSON(), this.peers()]);
    return AggregatorRegistry.aggregate([own, ...peers]).metrics();
  }
}
