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
import type { FromWorker, MetricsJson, ToWorker, WorkerReport } from "./messages.ts";
import { OrderedChannel } from "./orderedChannel.ts";
import { privateSocket } from "./privateSocket.ts";
import { snapshotMessage } from "./snapshotWire.ts";
import { WorkerPool } from "./workerPool.ts";
import { workerSettings } from "./workerSettings.ts";

/** Agents per batch when the whole fleet goes to a new worker. */
const WHOLE_CHUNK = 2000;
/** How long a listing waits for the workers' pending changes, and a write's answer for every worker to serve its commit. */
const WAIT_MS = 1000;

/** The primary's view of one worker. */
interface Member {
  readonly worker: Worker;
  readonly startedAt: number;
  state: WorkerStatus["state"];
  /** Init sent: it gets every later batch and snapshot. */
  fed: boolean;
  commit: string | null;
  report: WorkerReport;
  readonly channel: OrderedChannel<ToWorker>;
}

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
 * wires them and reads the workers' messages.
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

  const feed = (m: Member) => {
    m.channel.send({ t: "init", settings, socketPath, snapshot: snapshotMessage((server as RunningServer).store.state) });
    m.fed = true;
    fleet?.wholeBatches(WHOLE_CHUNK, (batch) => m.channel.send({ t: "changes", batch }));
    m.channel.send({ t: "listen" });
  };

  const onMessage = (m: Member, msg: FromWorker) => {
    switch (msg.t) {
      case "ready":
        return feed(m);
      case "listening":
        m.state = "serving";
        logger.debug({ worker: m.worker.id, pid: m.worker.process.pid }, "worker serving");
        barrier.recheck();
        return onStarted?.(msg.port);
      case "failed": {
        const err = Object.assign(new Error(msg.error.message), { code: msg.error.code, syscall: msg.error.syscall });
        // Said once, on stderr, by the caller (commands/startupFailure.ts).
        logger.debug({ worker: m.worker.id, err }, "a worker could not listen");
        return onFailed?.(err);
      }
      case "changes": {
        const missing = (fleet as WorkerFleet).absorbBatch(msg.batch);
        if (missing.length > 0) m.channel.send({ t: "resend", ids: missing });
        // What agents' requests read goes on at once (an agent's next request may reach another worker).
        return relay.received(m.worker.id, msg.batch);
      }
      case "rolloutServed":
        for (const [kind, name, id] of msg.served) controller?.noteServed(kind, name, id);
        return;
      case "missing":
        return fleet?.wholeBatches(WHOLE_CHUNK, (batch) => m.channel.send({ t: "changes", batch }), msg.ids);
      case "served":
        m.commit = msg.commit;
        m.report = msg.report;
        return barrier.recheck();
      case "stale":
        return m.channel.send({ t: "snapshot", snapshot: snapshotMessage((server as RunningServer).store.state) });
      case "flushed":
        m.report = msg.report;
        return m.channel.answer(msg.n, true);
      case "metrics":
        return m.channel.answer(msg.n, msg.metrics);
      case "bye":
        return;
      case "fence":
        // On the worker's one ordered channel, after the changes passed on to it so far: an
        // agent's change read before this request was handed over is there first.
        return m.channel.send({ t: "fenced", n: msg.n });
    }
  };

  // Fault injection (tests): the workers' messages read late, in order, while node:cluster keeps
  // handing connections over at once: a connection reaching a worker before the change it needs.
  const readLate = faults.primaryReadDelayMs > 0 ? inArrivalOrder(faults.primaryReadDelayMs) : undefined;

  const pool = new WorkerPool<Worker>({
    fork: () => cluster.fork(),
    logger,
    onFork: (worker) => {
      const m: Member = {
        worker, startedAt: Date.now(), state: "starting", fed: false, commit: null, report: { requests: 0, heldHeartbeats: 0, rssBytes: 0 },
        channel: new OrderedChannel((msg) => {
          if (worker.isConnected()) worker.send(msg);
        }),
      };
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
  const workers = (): WorkerStatus[] => [...members.values()].map((m) => ({
    id: m.worker.id, pid: m.worker.process.pid, state: m.state, commit: m.commit, requests: m.report.requests,
    heldHeartbeats: m.report.heldHeartbeats, rssBytes: m.report.rssBytes, startedAt: new Date(m.startedAt).toISOString(),
  }));
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
