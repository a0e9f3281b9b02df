import cluster from "node:cluster";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { agentRoutes } from "../protocols/agentRoutes.ts";
import { compileRoutes, routeOptions } from "../protocols/compileRoutes.ts";
import { ReplicaRegistry } from "../agents/replicaRegistry.ts";
import { RepoState } from "../domain/repoState.ts";
import { createApp } from "../http/app.ts";
import { createLogger, flushLogger } from "../logger.ts";
import { Metrics } from "../metrics.ts";
import { ChangeSignal } from "../protocols/changeSignal.ts";
import { forwarder } from "./forward.ts";
import type { FromWorker, ToWorker, WorkerReport, WorkerSettings } from "./messages.ts";
import { applySnapshot, type SnapshotMessage } from "./snapshotWire.ts";

/** How long a request for an agent unknown to this worker waits for the primary before it is answered AgentNotExist. */
const CATCH_UP_BOUND_MS = 1000;

const send = (m: FromWorker) => {
  process.send?.(m);
};

/** Exits once everything sent before is written to the channel (process.exit would drop what is still queued). */
function exitAfterSent(code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, 1000).unref();
  if (process.send === undefined || !process.connected) return exit();
  process.send({ t: "bye" } satisfies FromWorker, undefined, {}, exit);
}

/**
 * One worker process (--workers): answers agents from its copy of the served snapshot and of
 * the fleet, and hands every other request to the primary. It never touches git or the disk:
 * the primary sends each new snapshot and the other workers' agent changes.
 */
export function runWorker(): void {
  let started: ReturnType<typeof start> | undefined;
  const early: ToWorker[] = [];
  process.on("message", (m: ToWorker) => {
    if (m.t === "init" && started === undefined) {
      started = start(m.settings, m.socketPath, m.snapshot);
      for (const e of early.splice(0)) started.receive(e);
    } else if (started === undefined) early.push(m);
    else started.receive(m);
  });
  // A signal to the whole process group (Ctrl-C, systemd) reaches the workers too: they stop as
  // the primary would tell them to; the primary does not replace a worker it is stopping.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (started === undefined) process.exit(0);
      else void started.stop();
    });
  }
  send({ t: "ready" });
}

function start(settings: WorkerSettings, socketPath: string, first: SnapshotMessage) {
  const id = cluster.worker?.id ?? 0;
  const logger: Logger = createLogger(settings.logLevel).child({ worker: id });
  const metrics = new Metrics();
  let state = applySnapshot(undefined, first) as RepoState;
  const holder = { get state(): RepoState { return state; } };
  const changes = new ChangeSignal();
  const registry = new ReplicaRegistry({ ttlMs: settings.agentTtlMs, send: (batch) => send({ t: "changes", batch }) });
  const sweeper = registry.ttlMs > 0 ? setInterval(() => registry.sweep(), Math.min(Math.max(registry.ttlMs / 10, 1000), 60_000)) : undefined;
  sweeper?.unref();
  let closing = false;
  let requests = 0;
  const forward = forwarder({ socketPath, logger, shuttingDown: () => closing });
  // An agent's first request can reach this worker before its change, sent by the worker that
  // heard it, is passed on here: node:cluster may hand the new connection over before it reads
  // that worker's message. A request for an unknown agent asks the primary once and is handled
  // again when the answer (behind every change read so far) arrives; bounded, never a hang.
  const caughtUp = new Map<number, () => void>();
  let catchUps = 0;
  const catchUp = () => new Promise<void>((resolve) => {
    const n = ++catchUps;
    const done = () => {
      clearTimeout(bound);
      caughtUp.delete(n);
      resolve();
    };
    const bound = setTimeout(done, CATCH_UP_BOUND_MS);
    bound.unref();
    caughtUp.set(n, done);
    send({ t: "catchUp", n });
  });
  const app = createApp(compileRoutes(agentRoutes({ store: holder, registry, changes }, settings), routeOptions(settings.bodyLimit, logger, catchUp)), {
    bodyLimit: settings.bodyLimit,
    logger,
    metrics,
    auth: { agentToken: settings.agentToken },
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
    state = next;
    changes.fire();
    logger.debug({ commit: next.commit }, "serving new commit");
    send({ t: "served", commit: next.commit, report: report() });
  };

  const listen = () => {
    http.once("error", (e: NodeJS.ErrnoException) => {
      send({ t: "failed", error: { message: e.message, code: e.code, syscall: e.syscall } });
      void flushLogger(logger).finally(() => exitAfterSent(2));
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
    await new Promise<void>((resolve) => {
      const cut = setTimeout(() => {
        logger.warn({ ms: boundMs }, "requests still running at the shutdown deadline; closing their connections");
        http.closeAllConnections();
      }, boundMs);
      cut.unref();
      if (!http.listening) return resolve();
      http.close(() => {
        clearTimeout(cut);
        resolve();
      });
      http.closeIdleConnections();
    });
    clearInterval(sweeper);
    // Its last changes go to the primary first (the primary is still taking them).
    await registry.close();
    forward.close();
    await flushLogger(logger);
    exitAfterSent(0);
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
      case "caughtUp":
        return caughtUp.get(m.n)?.();
    }
  };
  send({ t: "served", commit: state.commit, report: report() });
  return { receive, stop };
}
