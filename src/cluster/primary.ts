import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Middleware } from "koa";
import type { Logger } from "pino";
import { WorkerFleet, type Absorbing } from "../agents/workerFleet.ts";
import type { RepoState } from "../domain/repoState.ts";
import type { WorkerStatus } from "../http/status.ts";
import { createLogger } from "../logger.ts";
import { Metrics } from "../metrics.ts";
import { DEFAULTS } from "../settings/options.ts";
import { startServer, warnIfOpen, type RunningServer, type ServerOptions } from "../server.ts";
import type { FromWorker, MetricsJson, ToWorker, WorkerReport, WorkerSettings } from "./messages.ts";
import { HeldChanges } from "./heldChanges.ts";
import { snapshotMessage } from "./snapshotWire.ts";

/** Agents per batch when the whole fleet goes to a new worker. */
const WHOLE_CHUNK = 2000;
/** How long a listing waits for the workers' pending changes, and a write's answer for every worker to serve its commit. */
const WAIT_MS = 1000;
/**
 * How often what may wait (HeldChanges: times, statistics, alarms) is passed on to the other
 * workers: a twentieth of the TTL (1 to 30 s), well before they would expire an agent.
 */
const relayInterval = (ttlMs: number) => (ttlMs > 0 ? Math.min(30_000, Math.max(1000, ttlMs / 20)) : 30_000);
/** A worker that keeps dying is replaced after a pause growing to this. */
const MAX_RESPAWN_DELAY_MS = 30_000;

interface Slot {
  readonly worker: Worker;
  readonly startedAt: number;
  state: WorkerStatus["state"];
  /** Init sent: it gets every later batch and snapshot. */
  fed: boolean;
  commit: string | null;
  report: WorkerReport;
  /** Questions out to it (flush, metrics), by number. */
  readonly waiting: Map<number, (value: unknown) => void>;
  /** Its changes that wait to be passed on to the other workers. */
  readonly held: HeldChanges;
}

/**
 * Where the workers reach the primary. On Linux an abstract Unix socket: no file, so a primary
 * killed at any instant leaves nothing behind (and it gives no more access than the public port:
 * the primary checks the same tokens for every request it is handed). Elsewhere a socket in a
 * private temporary folder, removed when the primary stops.
 */
function privateSocket(): { socketPath: string; cleanup: () => void } {
  if (process.platform === "linux") return { socketPath: `\0configserver-${process.pid}-${randomBytes(6).toString("hex")}`, cleanup: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), "configserver-"));
  return { socketPath: join(dir, "primary.sock"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The primary of --workers N processes. It runs the whole server (src/server.ts) except the agent
 * paths: the store (the one process that watches, syncs and writes the repository), the User API,
 * the console, /status, /metrics, webhooks, on a Unix socket the workers forward to. The workers
 * (src/cluster/worker.ts) share the public port through node:cluster, which accepts in this
 * process and hands each connection to the next worker in turn.
 *
 * Every commit served here goes to every worker (only the records that changed); a request
 * during which the served commit changed (a write) is answered once every worker serves it. The
 * fleet is replicated: each worker sends its agents' changes here, and they are absorbed into the
 * fleet view and passed on to the other workers. A worker that dies is replaced; its agents are
 * already known to the others.
 */
export async function startPrimary(options: ServerOptions & { readonly workers: number }): Promise<RunningServer> {
  const logger: Logger = options.logger ?? createLogger("info");
  const metrics = options.metrics ?? new Metrics(options.now ? { now: options.now } : {});
  const { socketPath, cleanup } = privateSocket();
  const slots = new Map<number, Slot>();
  let server: RunningServer | undefined;
  let fleet: WorkerFleet | undefined;
  let closing = false;
  let restarts = 0;
  let deaths: number[] = [];
  const settings: WorkerSettings = {
    host: options.host ?? DEFAULTS.host,
    port: options.port ?? DEFAULTS.port,
    logLevel: logger.level as WorkerSettings["logLevel"],
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    agentTtlMs: options.agentTtlMs ?? DEFAULTS.agentTtlMs,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs,
    agentToken: options.agentToken,
    v2ConfigDetails: options.v2ConfigDetails ?? DEFAULTS.v2ConfigDetails,
    v2LongPollMs: options.v2LongPollMs ?? DEFAULTS.v2LongPollMs,
  };

  const post = (slot: Slot, m: ToWorker) => {
    if (slot.worker.isConnected()) slot.worker.send(m);
  };
  const live = () => [...slots.values()].filter((s) => s.fed && s.worker.isConnected());

  // ---- replies the primary waits for: flushes, metrics, commits served ----
  let asked = 0;
  /** Asks one worker; undefined when it does not answer in time (or dies first). */
  const ask = <T>(slot: Slot, m: (n: number) => ToWorker): Promise<T | undefined> => {
    const n = ++asked;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), WAIT_MS);
      const done = (v: unknown) => {
        clearTimeout(timer);
        slot.waiting.delete(n);
        resolve(v as T | undefined);
      };
      slot.waiting.set(n, done);
      post(slot, m(n));
    });
  };
  const answer = (slot: Slot, n: number, value: unknown) => slot.waiting.get(n)?.(value);

  let flushing: Promise<void> | undefined;
  let again: Promise<void> | undefined;
  const flushOnce = async () => {
    await Promise.all(live().filter((s) => s.state === "serving").map((s) => ask(s, (n) => ({ t: "flush", n }))));
  };
  // Listings that start while a flush is out wait for the next one: it covers what they must see.
  const flushWorkers = (): Promise<void> => {
    if (flushing === undefined) return (flushing = flushOnce().finally(() => (flushing = undefined)));
    return (again ??= flushing.then(() => {
      again = undefined;
      return flushWorkers();
    }));
  };

  const commitWaiters = new Set<() => void>();
  const everyWorkerServes = (commit: string): Promise<void> => {
    // Starting workers too: they may listen before this commit's snapshot reaches them.
    const done = () => live().every((s) => s.commit === commit);
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        commitWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        commitWaiters.delete(check);
        logger.warn({ commit, workers: live().map((s) => ({ id: s.worker.id, commit: s.commit })) }, "a worker did not serve the new commit in time; answering anyway");
        resolve();
      }, WAIT_MS);
      commitWaiters.add(check);
    });
  };
  const noteServed = () => {
    for (const check of [...commitWaiters]) check();
  };

  // A write answers once every worker serves its commit: a read right after it, through any worker, sees it.
  const settle: Middleware = async (ctx, next) => {
    const before = server?.store.state;
    await next();
    const after = server?.store.state;
    if (after !== undefined && after !== before) await everyWorkerServes(after.commit);
  };

  // ---- the workers ----
  let onStarted: ((port: number) => void) | undefined;
  let onFailed: ((err: Error) => void) | undefined;

  const feed = (slot: Slot) => {
    const store = (server as RunningServer).store;
    post(slot, { t: "init", settings, socketPath, snapshot: snapshotMessage(store.state) });
    slot.fed = true;
    fleet?.wholeBatches(WHOLE_CHUNK, (batch) => post(slot, { t: "changes", batch }));
    post(slot, { t: "listen" });
  };

  const onMessage = (slot: Slot, m: FromWorker) => {
    switch (m.t) {
      case "ready":
        return feed(slot);
      case "listening":
        slot.state = "serving";
        logger.debug({ worker: slot.worker.id, pid: slot.worker.process.pid }, "worker serving");
        noteServed();
        return onStarted?.(m.port);
      case "failed": {
        const err = Object.assign(new Error(m.error.message), { code: m.error.code, syscall: m.error.syscall });
        // Said once, on stderr, by the caller (commands/startupFailure.ts).
        logger.debug({ worker: slot.worker.id, err }, "a worker could not listen");
        return onFailed?.(err);
      }
      case "changes": {
        const missing = (fleet as WorkerFleet).absorbBatch(m.batch);
        if (missing.length > 0) post(slot, { t: "resend", ids: missing });
        // What agents' requests read goes on at once (an agent's next request may reach another worker).
        const now = slot.held.take(m.batch);
        if (now !== undefined) for (const other of live()) if (other !== slot) post(other, { t: "changes", batch: now });
        return;
      }
      case "missing":
        return fleet?.wholeBatches(WHOLE_CHUNK, (batch) => post(slot, { t: "changes", batch }), m.ids);
      case "served":
        slot.commit = m.commit;
        slot.report = m.report;
        return noteServed();
      case "stale":
        return post(slot, { t: "snapshot", snapshot: snapshotMessage((server as RunningServer).store.state) });
      case "flushed":
        slot.report = m.report;
        return answer(slot, m.n, true);
      case "metrics":
        return answer(slot, m.n, m.metrics);
      case "bye":
        return;
      case "catchUp":
        // On the worker's one ordered channel, after the changes passed on to it so far: an
        // agent's change read before this request was handed over is there first.
        return post(slot, { t: "caughtUp", n: m.n });
    }
  };

  // Fault injection for tests (CONFIGSERVER_TEST_PRIMARY_READ_DELAY_MS): every worker's message
  // is taken that much later, in arrival order, while node:cluster keeps handing connections over
  // at once: the interleaving where a connection reaches a worker before the change it needs.
  const readDelay = Number(process.env.CONFIGSERVER_TEST_PRIMARY_READ_DELAY_MS ?? 0);
  const readLate = readDelay > 0 ? inArrivalOrder(readDelay) : undefined;

  const fork = () => {
    const worker = cluster.fork();
    const slot: Slot = { worker, startedAt: Date.now(), state: "starting", fed: false, commit: null, report: { requests: 0, heldHeartbeats: 0, rssBytes: 0 }, waiting: new Map(), held: new HeldChanges() };
    slots.set(worker.id, slot);
    worker.on("message", (m: FromWorker) => (readLate === undefined ? onMessage(slot, m) : readLate(() => onMessage(slot, m))));
    worker.on("error", (err) => logger.warn({ worker: worker.id, err }, "worker channel error"));
    worker.once("exit", (code, signal) => {
      slots.delete(worker.id);
      // What it sent and was held goes on: its agents are the other workers' now.
      const held = slot.held.drain();
      if (held !== undefined) for (const to of live()) post(to, { t: "changes", batch: held });
      for (const done of [...slot.waiting.values()]) done(undefined);
      noteServed();
      if (closing) return;
      // Before every worker listened, a death is a failed start (the reason is in its own output).
      if (onFailed !== undefined) return onFailed(new Error(`a worker process exited (${signal ?? code}) before it listened; see its messages above`));
      const bySignal = signal !== null && signal !== undefined;
      logger.error({ worker: worker.id, pid: worker.process.pid, code, signal }, `a worker ${bySignal ? `was killed (${signal})` : `exited (${code})`}; starting another`);
      // Crashing again and again (a bug, a full machine): the pause grows, so the log stays readable.
      const now = Date.now();
      deaths = [...deaths.filter((t) => now - t < 60_000), now];
      const delay = Math.min(MAX_RESPAWN_DELAY_MS, deaths.length <= 3 ? 0 : 250 * 2 ** (deaths.length - 3));
      setTimeout(() => {
        if (closing) return;
        restarts++;
        fork();
      }, delay).unref();
    });
    return slot;
  };

  const relayTimes = setInterval(() => {
    for (const from of slots.values()) {
      const batch = from.held.drain();
      if (batch !== undefined) for (const to of live()) if (to !== from) post(to, { t: "changes", batch });
    }
  }, relayInterval(options.agentTtlMs ?? DEFAULTS.agentTtlMs));
  relayTimes.unref();

  const heldHeartbeats = () => live().reduce((n, s) => n + s.report.heldHeartbeats, 0);
  const workers = (): WorkerStatus[] => [...slots.values()].map((s) => ({
    id: s.worker.id, pid: s.worker.process.pid, state: s.state, commit: s.commit, requests: s.report.requests,
    heldHeartbeats: s.report.heldHeartbeats, rssBytes: s.report.rssBytes, startedAt: new Date(s.startedAt).toISOString(),
  }));

  metrics.aggregateWith(async () => {
    const all = await Promise.all(live().map((s) => ask<MetricsJson>(s, (n) => ({ t: "metrics", n }))));
    return all.filter((m): m is MetricsJson => m !== undefined);
  }, { workers: () => live().filter((s) => s.state === "serving").length, restarts: () => restarts });

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
          for (const s of live()) post(s, { t: "snapshot", snapshot });
        },
        middleware: [settle],
        heldHeartbeats,
        workers,
      },
    });
  } catch (e) {
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
      for (let i = 0; i < options.workers; i++) fork();
    });
  } catch (e) {
    closing = true;
    for (const s of slots.values()) s.worker.process.kill("SIGKILL");
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

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    store: inner.store,
    registry: inner.registry,
    metrics,
    close: (boundMs?: number) => (closed ??= (async () => {
      closing = true;
      clearInterval(relayTimes);
      const bound = boundMs ?? options.shutdownTimeoutMs ?? DEFAULTS.shutdownTimeoutMs;
      const deadline = Date.now() + bound;
      // The workers finish their requests first (forwarded writes included: this process still
      // answers them), then this process stops within what is left of the bound.
      const exits = [...slots.values()].map((s) => new Promise<void>((resolve) => {
        if (!s.worker.isConnected() && s.worker.isDead()) return resolve();
        s.worker.once("exit", () => resolve());
        s.state = "stopping";
        post(s, { t: "shutdown", boundMs: bound });
      }));
      const late = setTimeout(() => {
        for (const s of slots.values()) {
          logger.warn({ worker: s.worker.id }, "a worker did not stop in time; killing it");
          s.worker.process.kill("SIGKILL");
        }
      }, bound + 1000);
      await Promise.all(exits);
      clearTimeout(late);
      await inner.close(Math.max(deadline - Date.now(), 0));
      cleanup();
    })()),
  };
}

/** Runs each given function `delayMs` after it was given, in the order given (one queue, one timer). */
function inArrivalOrder(delayMs: number): (run: () => void) => void {
  const queue: { readonly at: number; readonly run: () => void }[] = [];
  const drain = () => {
    while (queue.length > 0 && (queue[0] as { at: number }).at <= performance.now()) (queue.shift() as { run: () => void }).run();
    if (queue.length > 0) setTimeout(drain, (queue[0] as { at: number }).at - performance.now());
  };
  return (run) => {
    queue.push({ at: performance.now() + delayMs, run });
    if (queue.length === 1) setTimeout(drain, delayMs);
  };
}
