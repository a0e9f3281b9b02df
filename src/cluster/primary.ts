import cluster, { type Worker } from "node:cluster";
import type { Middleware } from "koa";
import type { Logger } from "pino";
import { coalesced } from "../agents/coalesced.ts";
import { WorkerFleet, type Absorbing } from "../agents/workerFleet.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { RollingConfig } from "../domain/rolloutOverlay.ts";
import { faults, inArrivalOrder } from "../faults.ts";
import type { WorkerStatus } from "../http/status.ts";
import { createLogger } from "../logger.ts";
import { Metrics } from "../metrics.ts";
import type { RolloutController } from "../rollouts/rolloutController.ts";
import { DEFAULTS } from "../settings/options.ts";
import { startServer, type RunningServer, type ServerOptions } from "../server.ts";
import { warnIfAgentsOpen, warnIfOpen } from "../wiring/startupWarnings.ts";
import { ChangeRelay, relayInterval } from "./changeRelay.ts";
import { CommitBarrier } from "./commitBarrier.ts";
import { newMember, workerStatus, type Member } from "./member.ts";
import type { FromWorker, MetricsJson } from "./messages.ts";
import { privateSocket } from "./privateSocket.ts";
import { snapshotMessage } from "./snapshotWire.ts";
import { workerMessages } from "./workerMessages.ts";
import { WorkerPool } from "./workerPool.ts";
import { workerSettings } from "./workerSettings.ts";

/** How long a listing waits for the workers' pending changes, and a write's answer for every worker to serve its commit. */
const WAIT_MS = 1000;

/**
 * The primary of --workers N processes. It runs the whole server (src/server.ts) except the agent
 * paths: the store (the one process that watches, syncs and writes the repository), the User API,
 * the console, /status, /metrics, webhooks, on a Unix socket the workers forward to. The workers
 * (src/cluster/worker.ts) share the public port through node:cluster, which accepts in this
 * process and hands each connection to the next worker in turn.
 *
 * The pieces: the worker pool (fork, replace), one ordered channel per worker (calls: flush,
 * metrics), the change relay (the fleet is replicated: each worker's agent changes are absorbed
 * into the fleet view here and passed on to the other workers) and the commit barrier (a request
 * during which the served commit changed is answered once every worker serves it). This function
 * wires them; what each worker message does is in workerMessages.ts, a worker's record in member.ts.
 */
export async function startPrimary(options: ServerOptions & { readonly workers: number }): Promise<RunningServer> {
  const logger: Logger = options.logger ?? createLogger("info");
  const metrics = options.metrics ?? new Metrics(options.now ? { now: options.now } : {});
  const { socketPath, cleanup } = privateSocket();
  const settings = workerSettings(options, logger);
  const members = new Map<number, Member>();
  let server: RunningServer | undefined;
  let fleet: WorkerFleet | undefined;
  /** The rollout controller (it decides; the workers serve its overlay and report who they served). */
  let controller: RolloutController | undefined;
  const live = () => [...members.values()].filter((m) => m.fed && m.worker.isConnected());

  const relay = new ChangeRelay((except, batch) => {
    for (const m of live()) if (m.worker.id !== except) m.channel.send({ t: "changes", batch });
  });
  // Starting workers too: they may listen before a new commit's snapshot reaches them.
  const barrier = new CommitBarrier({
    served: () => live().map((m) => m.commit),
    boundMs: WAIT_MS,
    onLate: (commit) => logger.warn({ commit, workers: live().map((m) => ({ id: m.worker.id, commit: m.commit })) }, "a worker did not serve the new commit in time; answering anyway"),
  });
  // A write answers once every worker serves its commit: a read right after it, through any worker, sees it.
  const settle: Middleware = async (_ctx, next) => {
    const before = server?.store.state;
    await next();
    const after = server?.store.state;
    if (after !== undefined && after !== before) await barrier.wait(after.commit);
  };
  // A listing includes every change the workers heard before it began.
  const flushWorkers = coalesced(async () => {
    await Promise.all(live().filter((m) => m.state === "serving").map((m) => m.channel.call((n) => ({ t: "flush", n }), WAIT_MS)));
  });

  let onStarted: ((port: number) => void) | undefined;
  let onFailed: ((err: Error) => void) | undefined;

  const onMessage = workerMessages({
    logger, settings, socketPath, relay, barrier,
    state: () => (server as RunningServer).store.state,
    fleet: () => fleet,
    controller: () => controller,
    onStarted: (port) => onStarted?.(port),
    onFailed: (err) => onFailed?.(err),
  });

  // Fault injection (tests): the workers' messages read late, in order, while node:cluster keeps
  // handing connections over at once: a connection reaching a worker before the change it needs.
  const readLate = faults.primaryReadDelayMs > 0 ? inArrivalOrder(faults.primaryReadDelayMs) : undefined;

  const pool = new WorkerPool<Worker>({
    fork: () => cluster.fork(),
    logger,
    onFork: (worker) => {
      const m = newMember(worker);
      members.set(worker.id, m);
      worker.on("message", (msg: FromWorker) => (readLate === undefined ? onMessage(m, msg) : readLate(() => onMessage(m, msg))));
      worker.on("error", (err) => logger.warn({ worker: worker.id, err }, "worker channel error"));
    },
    onExit: (worker, how, replacing) => {
      const m = members.get(worker.id);
      members.delete(worker.id);
      m?.channel.close();
      // What it sent and was deferred goes on: its agents are the other workers' now.
      relay.gone(worker.id);
      barrier.recheck();
      // Before every worker listened, a death is a failed start (the reason is in its own output).
      if (!replacing && !pool.stopping) onFailed?.(new Error(`a worker process ${how} before it listened; see its messages above`));
    },
  });

  relay.start(relayInterval(options.agentTtlMs ?? DEFAULTS.agentTtlMs));
  const heldHeartbeats = () => live().reduce((n, m) => n + m.report.heldHeartbeats, 0);
  const workers = (): WorkerStatus[] => [...members.values()].map(workerStatus);
  metrics.aggregateWith(async () => {
    const all = await Promise.all(live().map((m) => m.channel.call<MetricsJson>((n) => ({ t: "metrics", n }), WAIT_MS)));
    return all.filter((x): x is MetricsJson => x !== undefined);
  }, { workers: () => live().filter((m) => m.state === "serving").length, restarts: () => pool.restarts });

  try {
    server = await startServer({
      ...options,
      logger,
      metrics,
      primary: {
        fleet: (registry: Absorbing) => (fleet = new WorkerFleet(registry, flushWorkers)),
        socketPath,
        onServed: (state: RepoState, previous: RepoState) => {
          const snapshot = snapshotMessage(state, previous);
          for (const m of live()) m.channel.send({ t: "snapshot", snapshot });
        },
        onRollouts: (entries: readonly RollingConfig[]) => {
          for (const m of live()) m.channel.send({ t: "rollouts", entries });
        },
        rollouts: (c: RolloutController) => {
          controller = c;
        },
        middleware: [settle],
        heldHeartbeats,
        workers,
      },
    });
  } catch (e) {
    relay.stop();
    cleanup();
    throw e;
  }
  const inner = server;

  cluster.setupPrimary({ serialization: "advanced" });
  // Connections go to the workers in turn (node's default on Linux; said here for every platform).
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let listening = 0;
      onStarted = (p) => {
        if (++listening === options.workers) resolve(p);
      };
      onFailed = reject;
      pool.start(options.workers);
    });
    pool.running();
  } catch (e) {
    pool.stop();
    relay.stop();
    pool.killAll();
    await inner.close(1000);
    cleanup();
    throw e;
  } finally {
    onStarted = undefined;
    onFailed = undefined;
  }
  const host = settings.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info({ url, repo: options.repo, commit: inner.store.state.commit || null, readOnly: !!options.readOnly, workers: options.workers, pids: workers().map((w) => w.pid) }, "configserver listening");
  warnIfOpen(logger, host, options.userToken, options.tokens);
  warnIfAgentsOpen(logger, host, options.agentToken, options.agentNetworks);

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    store: inner.store,
    registry: inner.registry,
    metrics,
    notifier: inner.notifier,
    close: (boundMs?: number) => (closed ??= (async () => {
      relay.stop();
      const bound = boundMs ?? options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs;
      const deadline = Date.now() + bound;
      // The workers finish their requests first (forwarded writes included: this process still
      // answers them), then this process stops within what is left of the bound.
      await pool.shutdown(bound, (worker) => {
        const m = members.get(worker.id);
        if (m === undefined) return;
        m.state = "stopping";
        m.channel.send({ t: "shutdown", boundMs: bound });
      });
      await inner.close(Math.max(deadline - Date.now(), 0));
      cleanup();
    })()),
  };
}
