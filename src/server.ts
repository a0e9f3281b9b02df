import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import { startSweeping } from "./agents/expiry.ts";
import { MemoryRegistry } from "./agents/memoryRegistry.ts";
import { RedisRegistry } from "./agents/redisRegistry.ts";
import { parseRegistry } from "./agents/registryUrl.ts";
import type { CommitFanout } from "./redis/commitFanout.ts";
import type { AgentRegistry } from "./domain/registry.ts";
import { agentRoutes } from "./protocols/agentRoutes.ts";
import { compileRoutes, routeOptions } from "./protocols/compileRoutes.ts";
import { ChangeSignal } from "./protocols/changeSignal.ts";
import { userRoutes } from "./protocols/alpha/userRoutes.ts";
import type { Settings } from "./settings/options.ts";
import { withDefaults } from "./settings/withDefaults.ts";
import { agentsApiRouter } from "./http/agentsApi.ts";
import { configsApiRouter } from "./http/configsApi.ts";
import { createApp } from "./http/app.ts";
import { closeGracefully } from "./http/closeGracefully.ts";
import { consoleRouter } from "./http/console.ts";
import { consoleApiRouter } from "./http/consoleApi.ts";
import { changesRouter } from "./http/changesRoutes.ts";
import { healthRouter, type Readiness } from "./http/health.ts";
import { Metrics } from "./metrics.ts";
import { historyRouter } from "./http/historyRoutes.ts";
import { landingRouter } from "./http/landing.ts";
import { createLogger } from "./logger.ts";
import { agentAdmission } from "./wiring/agentAdmission.ts";
import { linkReplicas } from "./wiring/replicaLinks.ts";
import { servedNames } from "./wiring/servedNames.ts";
import { storeEvents } from "./wiring/storeEvents.ts";
import type { PrimaryRole } from "./wiring/primaryRole.ts";
import { warnIfAgentsOpen, warnIfOpen } from "./wiring/startupWarnings.ts";
import { rolloutRouter } from "./http/rolloutRoutes.ts";
import { rolloutsApiRouter } from "./http/rolloutsApi.ts";
import { RolloutController } from "./rollouts/rolloutController.ts";
import { RolloutFile } from "./rollouts/rolloutFile.ts";
import type { RedisRollouts } from "./rollouts/redisRollouts.ts";
import { statusRouter } from "./http/status.ts";
import { webhookRouter } from "./http/webhook.ts";
import { whoamiRouter } from "./http/whoami.ts";
import { createNotifier, type Notifier, type NotifyTuning } from "./notify/notifier.ts";
import { RepoStore } from "./store/repoStore.ts";
import { RepoWatcher } from "./store/repoWatcher.ts";
import { SyncScheduler } from "./store/syncScheduler.ts";
import { VERSION } from "./version.ts";

/**
 * What startServer takes: the serve settings (one row each in the option table,
 * src/settings/options.ts; absent = that option's default, as `serve` would use) and what only
 * code passes.
 */
export type ServerOptions = Partial<Omit<Settings, "repo" | "logLevel" | "configFile">> & {
  /** The served git repository; created when missing or empty. */
  readonly repo: string;
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Defaults to a new Metrics with its own registry. */
  readonly metrics?: Metrics;
  /** Set by src/cluster/primary.ts: this process is the primary of worker processes, which answer the agents. */
  readonly primary?: PrimaryRole;
  /** How --notify-url events are retried (the tests shorten the waits); defaults in src/notify/notifier.ts. */
  readonly notifyTuning?: NotifyTuning;
};

export type { PrimaryRole } from "./wiring/primaryRole.ts";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
  readonly metrics: Metrics;
  /** The --notify-url events: the rollout controller calls `emit` (docs/rollouts.md, "Events"). */
  readonly notifier: Notifier;
  /** Graceful: stops accepting, lets in-flight requests and writes finish (bounded by --shutdown-timeout, or `boundMs`), then stops. */
  close(boundMs?: number): Promise<void>;
}

/** Builds and starts the whole server; the CLI and the black-box tests both call this. */
export async function startServer(given: ServerOptions): Promise<RunningServer> {
  const options = withDefaults(given);
  const logger = options.logger ?? createLogger("info");
  const metrics = options.metrics ?? new Metrics(options.now ? { now: options.now } : {});
  const readOnlyMessage = options.readOnly
    ? "This config server is read-only: change configs and agent groups by opening a pull request against the config repository."
    : undefined;
  const changes = new ChangeSignal();
  const choice = parseRegistry(options.registry);
  if (typeof choice === "string") throw new Error(`registry ${JSON.stringify(options.registry)} ${choice}`);
  // Replicas on one Redis tell each other about new commits (set once the scheduler exists).
  let fanout: CommitFanout | undefined;
  // Replicas on one Redis: one decides the rollouts (it holds a lease), the others serve what it shares.
  let sharing: RedisRollouts | undefined;
  // Made before the store opens: a start on a refused HEAD is an event too. Never on the agent path.
  const notifier = createNotifier({
    urls: options.notifyUrl ?? [],
    secret: options.notifySecret,
    logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.notifyTuning ? { tuning: options.notifyTuning } : {}),
    counted: { sent: (type) => metrics.notification("sent", type), failed: (type) => metrics.notification("failed", type), dropped: (type) => metrics.notification("dropped", type) },
  });
  if (options.notifyUrl?.length && options.notifySecret === undefined) logger.info("--notify-url events are sent unsigned: set --notify-secret-file for receivers to check X-Hub-Signature-256");
  // Set once the store is open; it lays the rollouts over each new snapshot before any agent sees it.
  let rollouts: RolloutController | undefined;
  const store = await RepoStore.open(options.repo, {
    author: options.author,
    lockWaitMs: options.lockWaitMs,
    contentLimits: { maxConfigSize: options.maxConfigSize, secrets: options.secrets },
    ...(readOnlyMessage ? { readOnlyMessage } : {}),
    maxFileSize: options.maxFileSize,
    events: storeEvents({ rollouts: () => rollouts, metrics, changes, primary: options.primary, fanout: () => fanout, logger, notifier }),
    ...(options.remote
      ? { remote: { url: options.remote, branch: options.branch, allowHistoryRewrite: options.allowHistoryRewrite } }
      : {}),
  }).catch(async (err: unknown) => {
    // A refused HEAD may have been queued before the open failed: nothing may keep retrying for a caller that goes on.
    await notifier.close();
    throw err;
  });
  // Without a remote the periodic sync only rereads HEAD: a safety net under the file watcher.
  const scheduler = new SyncScheduler(store, { intervalMs: options.syncIntervalMs, onError: (err) => logger.error({ err }, "bug: a sync failed without a report; the next one is scheduled") });
  let dirty: string[] = [];
  const watcher = new RepoWatcher(options.repo, store.git, {
    exclusive: (work) => store.exclusive(work),
    isCommitted: (path) => store.isCommitted(path),
    onRefsChanged: () => void store.refresh().catch((err: unknown) => logger.error({ err }, "reloading HEAD failed")),
    onDirty: (paths) => {
      if (paths.join("\0") !== dirty.join("\0") && paths.length > 0) {
        logger.warn({ paths }, "uncommitted changes in the working tree are not served; commit them to take effect");
      }
      dirty = paths;
    },
  });
  const gitDir = (await store.git.raw(["rev-parse", "--absolute-git-dir"])).trim();
  await watcher.start();
  scheduler.start();
  const ttlMs = options.agentTtlMs;
  const admission = agentAdmission(options.maxAgents, metrics, logger);
  const shared = choice.kind === "redis" ? new RedisRegistry({ url: choice.url, ttlMs, logger, admission, ...(options.now ? { now: options.now } : {}) }) : undefined;
  const own = shared ?? new MemoryRegistry({ ttlMs, admission, ...(options.now ? { now: options.now } : {}) });
  const registry: AgentRegistry = options.primary ? options.primary.fleet(own) : own;
  if (shared !== undefined && choice.kind === "redis") {
    ({ fanout, sharing } = await linkReplicas({ url: choice.url, registry: shared, logger, store, scheduler, rollouts: () => rollouts }));
  }
  rollouts = new RolloutController({ store, registry, file: new RolloutFile(`${gitDir}/configserver/rollouts.json`), readOnly: !!options.readOnly, logger, emit: (e) => notifier.emit(e), onEvaluated: (ms) => metrics.rolloutsEvaluated(ms), ...(options.primary ? { onOverlay: options.primary.onRollouts } : {}), ...(options.now ? { now: options.now } : {}), ...(sharing ? { sharing } : {}) });
  options.primary?.rollouts(rollouts);
  rollouts.start();
  const controller = rollouts;
  metrics.watch({ store, registry, rollouts: () => controller.list().map((r) => ({ config: r.name, kind: r.kind, state: r.progress.status, wave: r.progress.wave, failedAgents: (r.waves ?? []).reduce((n, w) => n + w.failed, 0) })) });
  const stopSweeping = startSweeping(registry);
  let closing = false;
  let closed: Promise<void> | undefined;
  // Ready = serving a valid commit (or a new repository with none yet). A refused HEAD, a failed
  // fetch or push are in /status and /metrics, not here: every replica follows the same remote,
  // and a load balancer must not drop them all while they still serve the last good commit.
  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (closing) reasons.push("shutting down");
    // Probes need no token: the reason names no file or parser message (those are in /status).
    const refused = store.refused;
    if (store.notServableReason !== undefined) {
      reasons.push(refused ? `no valid commit is loaded: HEAD ${refused.commit.slice(0, 12)} fails validation (${refused.problems.length} problem(s); see /status)` : "no valid commit is loaded (see /status)");
    }
    return { ready: reasons.length === 0, reasons, commit: store.state.commit || null };
  };
  const extra = [
    webhookRouter({ secret: options.webhookSecret, onPush: (provider) => {
      logger.info({ provider }, "push webhook received; syncing");
      fanout?.announce("webhook");
      void scheduler.trigger();
    } }),
    statusRouter({ store, registry, readOnly: !!options.readOnly, dirty: () => dirty, heldHeartbeats: options.primary?.heldHeartbeats ?? (() => changes.waiting), decidesRollouts: () => controller.deciding, ...(options.primary ? { workers: options.primary.workers } : {}) }),
    healthRouter({ readiness, metrics }),
    consoleRouter(),
    landingRouter({ version: VERSION, served: () => ({ commit: store.state.commit || null, committedAt: store.state.committedAt ? new Date(store.state.committedAt).toISOString() : null }) }),
    agentsApiRouter(registry, store, options.now),
    rolloutRouter({ store, registry }),
    rolloutsApiRouter({ rollouts }),
    configsApiRouter({ store }),
    whoamiRouter(),
    consoleApiRouter({ store, registry, bodyLimit: options.bodyLimit, ...(options.now ? { now: options.now } : {}) }),
    changesRouter({ store, registry }),
  ];
  // A primary's workers answer every agent path.
  // Agent routes have their own, smaller body limit (--agent-body-limit).
  const compiled = compileRoutes(userRoutes({ store, registry }), routeOptions(options.bodyLimit, logger));
  if (!options.primary) compiled.push(...compileRoutes(agentRoutes({ store, registry, changes }, options), routeOptions(options.agentBodyLimit, logger)));
  const listener = createApp(compiled, {
    bodyLimit: options.bodyLimit,
    logger,
    metrics,
    auth: { userToken: options.userToken, userTokens: options.tokens, agentToken: options.agentToken, agentNetworks: options.agentNetworks },
    browser: servedNames(options.host, options.allowedHosts),
    requestTimeoutMs: options.requestTimeoutMs,
    shuttingDown: () => closing,
    middleware: options.primary?.middleware,
  }, [...extra, historyRouter({ store })]);
  const host = options.host;
  const http: Server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(listener);
    if (options.primary) s.listen(options.primary.socketPath, () => resolve(s));
    else s.listen(options.port, host, () => resolve(s));
    s.once("error", reject);
  }).catch(async (err: unknown) => {
    // Nothing may keep running for a caller that goes on after a failed start (tests, embedders).
    stopSweeping();
    // The rollouts first: what they announce while stopping must find the notifier open.
    rollouts?.stop();
    await Promise.race([rollouts?.settled(), new Promise((r) => setTimeout(r, options.shutdownTimeoutMs).unref())]);
    await notifier.close();
    await sharing?.close();
    fanout?.close();
    await registry.close();
    await scheduler.stop();
    await watcher.close();
    throw err;
  });
  http.keepAliveTimeout = 65_000;
  // A primary's address is its socket; its workers' port is known once they listen (src/cluster/primary.ts).
  const port = options.primary ? 0 : (http.address() as AddressInfo).port;
  const url = options.primary ? `unix:${options.primary.socketPath}` : `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (options.primary) logger.debug({ socket: options.primary.socketPath }, "primary listening for its workers");
  else {
    logger.info({ url, repo: options.repo, commit: store.state.commit || null, readOnly: !!options.readOnly }, "configserver listening");
    warnIfOpen(logger, host, options.userToken, options.tokens);
    warnIfAgentsOpen(logger, host, options.agentToken, options.agentNetworks);
  }
  return {
    url,
    port,
    store,
    registry,
    metrics,
    notifier,
    close: (boundMs?: number) => (closed ??= (async () => {
      closing = true;
      rollouts?.stop();
      const writesDone = store.close();
      stopSweeping();
      const bound = boundMs ?? options.shutdownTimeoutMs;
      const deadline = Date.now() + bound;
      // Cut what is still open at the deadline; the handlers keep running, writes are drained below.
      await closeGracefully(http, bound, logger);
      // The rollouts' evaluation under way and their revert commits settle with the writes: each
      // announces what it did only when it is done, so the notifier closes after them.
      await Promise.race([Promise.all([writesDone, rollouts?.settled()]), new Promise((r) => setTimeout(r, Math.max(deadline - Date.now(), 1000)).unref())]);
      // After the writes: a revert committed while stopping still gets its event out (bounded).
      await notifier.close();
      await sharing?.close();
      fanout?.close();
      await registry.close();
      await scheduler.stop();
      await watcher.close();
    })()),
  };
}
