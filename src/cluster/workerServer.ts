import cluster from "node:cluster";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { agentRoutes } from "../protocols/agentRoutes.ts";
import { compileRoutes, routeOptions } from "../protocols/compileRoutes.ts";
import { startSweeping } from "../agents/expiry.ts";
import { ReplicaRegistry } from "../agents/replicaRegistry.ts";
import { RepoState } from "../domain/repoState.ts";
import { createApp } from "../http/app.ts";
import { closeGracefully } from "../http/closeGracefully.ts";
import { createLogger, flushLogger } from "../logger.ts";
import { Metrics } from "../metrics.ts";
import { ChangeSignal } from "../protocols/changeSignal.ts";
import { agentAdmission } from "../wiring/agentAdmission.ts";
import { forwarder } from "./forward.ts";
import type { FromWorker, ToWorker, WorkerReport, WorkerSettings } from "./messages.ts";
import { OrderedChannel } from "./orderedChannel.ts";
import { applySnapshot, workerOverlay, type SnapshotMessage } from "./snapshotWire.ts";
import type { RollingConfig } from "../domain/rolloutOverlay.ts";

/** How long a request for an agent unknown to this worker waits for the primary's fence before it is answered AgentNotExist. */
const FENCE_BOUND_MS = 1000;

export interface WorkerServerOptions {
  readonly settings: WorkerSettings;
  /** The primary's socket, where every request that is not an agent's goes. */
  readonly socketPath: string;
  /** The snapshot served first (whole). */
  readonly first: SnapshotMessage;
  /** To the primary. */
  readonly send: (m: FromWorker) => void;
  /** Ends the process once what was sent is written. */
  readonly exit: (code: number) => void;
}

export interface WorkerServer {
  /** A message from the primary. */
  receive(m: ToWorker): void;
  /** Stops accepting, finishes what is in flight within `boundMs`, sends its last changes, exits. */
  stop(boundMs?: number): Promise<void>;
}

/**
 * What a worker runs: the agent paths from its copy of the served snapshot and of the fleet,
 * every other request forwarded to the primary. It never touches git or the disk: the primary
 * sends each new snapshot and the other workers' agent changes.
 */
export function startWorkerServer(options: WorkerServerOptions): WorkerServer {
  const { settings, send } = options;
  const logger: Logger = createLogger(settings.logLevel).child({ worker: cluster.worker?.id ?? 0 });
  const metrics = new Metrics();
  // Agents this worker first served a rollout's new version: sent to the primary's controller in
  // batches (one message per turn of the event loop), which counts them as having received it.
  let servedNotes: ["pipeline" | "instance", string, string][] = [];
  const flushServed = () => {
    if (servedNotes.length > 0) send({ t: "rolloutServed", served: servedNotes });
    servedNotes = [];
  };
  /** The primary's rollouts laid over a snapshot: every process serves every agent the same. */
  const overlay = (s: RepoState, entries: readonly RollingConfig[]) => {
    s.setRollouts(workerOverlay(entries, (kind, name, id) => {
      if (servedNotes.push([kind, name, id]) === 1) setImmediate(flushServed);
    }));
  };
  let state = applySnapshot(undefined, options.first) as RepoState;
  overlay(state, options.first.rollouts);
  const holder = { get state(): RepoState { return state; } };
  const changes = new ChangeSignal();
  const registry = new ReplicaRegistry({ ttlMs: settings.agentTtlMs, admission: agentAdmission(settings.maxAgents, metrics, logger), send: (batch) => send({ t: "changes", batch }) });
  const stopSweeping = startSweeping(registry);
  let closing = false;
  let requests = 0;
  const forward = forwarder({ socketPath: options.socketPath, logger, shuttingDown: () => closing });
  const primary = new OrderedChannel<FromWorker>(send);
  // An agent's first request can reach this worker before its change, sent by the worker that
  // heard it, is passed on here: node:cluster may hand the new connection over before it reads
  // that worker's message. A request for an unknown agent asks the primary for a fence once (its
  // answer comes behind every change the primary read so far) and is handled again; bounded.
  const fence = async () => {
    await primary.call((n) => ({ t: "fence", n }), FENCE_BOUND_MS);
  };
  const app = createApp(compileRoutes(agentRoutes({ store: holder, registry, changes }, settings), routeOptions(settings.agentBodyLimit, logger, fence)), {
    bodyLimit: settings.bodyLimit,
    logger,
    metrics,
    auth: { agentToken: settings.agentToken, agentNetworks: settings.agentNetworks },
    requestTimeoutMs: settings.requestTimeoutMs,
    shuttingDown: () => closing,
    forward: forward.listener,
    beforeAnswer: () => registry.sendAgentPath(),
  });
  const http: Server = createServer((req, res) => {
    requests++;
    app(req, res);
  });
  http.keepAliveTimeout = 65_000;
  const report = (): WorkerReport => ({ requests, heldHeartbeats: changes.waiting, rssBytes: process.memoryUsage.rss() });

  const install = (m: SnapshotMessage) => {
    const next = applySnapshot(state, m);
    if (next === undefined) return send({ t: "stale" });
    // The overlay goes on before the state is served: no agent sees the new commit outside its wave.
    overlay(next, m.rollouts);
    state = next;
    changes.fire();
    logger.debug({ commit: next.commit }, "serving new commit");
    send({ t: "served", commit: next.commit, report: report() });
  };

  const listen = () => {
    http.once("error", (e: NodeJS.ErrnoException) => {
      send({ t: "failed", error: { message: e.message, code: e.code, syscall: e.syscall } });
      void flushLogger(logger).finally(() => options.exit(2));
    });
    http.listen(settings.port, settings.host, () => {
      const port = (http.address() as AddressInfo).port;
      logger.debug({ port }, "worker listening");
      send({ t: "listening", port });
    });
  };

  let stopped: Promise<void> | undefined;
  const stop = (boundMs = settings.shutdownTimeoutMs) => (stopped ??= (async () => {
    closing = true;
    await closeGracefully(http, boundMs, logger);
    stopSweeping();
    // Its last changes go to the primary first (the primary is still taking them).
    await registry.close();
    forward.close();
    await flushLogger(logger);
    options.exit(0);
  })());

  const receive = (m: ToWorker) => {
    switch (m.t) {
      case "changes": {
        const missing = registry.absorb(m.batch);
        if (missing.length > 0) send({ t: "missing", ids: missing });
        return;
      }
      case "listen":
        return listen();
      case "snapshot":
        return install(m.snapshot);
      case "rollouts":
        overlay(state, m.entries);
        return changes.fire();
      case "resend":
        return registry.resend(m.ids);
      case "flush":
        registry.flush();
        return send({ t: "flushed", n: m.n, report: report() });
      case "metrics":
        void metrics.registry.getMetricsAsJSON().then((json) => send({ t: "metrics", n: m.n, metrics: json }));
        return;
      case "shutdown":
        void stop(m.boundMs);
        return;
      case "init":
        return;
      case "fenced":
        return primary.answer(m.n, true);
    }
  };
  send({ t: "served", commit: state.commit, report: report() });
  return { receive, stop };
}
