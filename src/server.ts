import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import { hostname } from "node:os";
import type { Middleware } from "koa";
import type { Logger } from "pino";
import { startSweeping } from "./agents/expiry.ts";
import { MemoryRegistry, type AgentAdmission } from "./agents/memoryRegistry.ts";
import { RedisRegistry } from "./agents/redisRegistry.ts";
import { parseRegistry } from "./agents/registryUrl.ts";
import { redactUrl } from "./redis/redactUrl.ts";
import { CommitFanout } from "./redis/commitFanout.ts";
import { COMMAND_TIMEOUT_MS } from "./redis/connect.ts";
import type { IpSelector } from "./domain/addressMatch.ts";
import type { AgentRegistry } from "./domain/registry.ts";
import type { RepoState } from "./domain/repoState.ts";
import type { Absorbing } from "./agents/workerFleet.ts";
import type { WorkerStatus } from "./http/status.ts";
import { agentRoutes } from "./protocols/agentRoutes.ts";
import { compileRoutes, routeOptions } from "./protocols/compileRoutes.ts";
import { ChangeSignal } from "./protocols/changeSignal.ts";
import { userRoutes } from "./protocols/alpha/userRoutes.ts";
import { DEFAULTS, type Defaults, type Settings } from "./settings/options.ts";
import { agentsApiRouter } from "./http/agentsApi.ts";
import { configsApiRouter } from "./http/configsApi.ts";
import { createApp } from "./http/app.ts";
import { closeGracefully } from "./http/closeGracefully.ts";
import type { BrowserGuardOptions } from "./http/browserGuard.ts";
import { consoleRouter } from "./http/console.ts";
import { consoleApiRouter } from "./http/consoleApi.ts";
import { changesRouter } from "./http/changesRoutes.ts";
import { healthRouter, type Readiness } from "./http/health.ts";
import { Metrics } from "./metrics.ts";
import { historyRouter } from "./http/historyRoutes.ts";
import { landingRouter } from "./http/landing.ts";
import { createLogger } from "./logger.ts";
import { rolloutRouter } from "./http/rolloutRoutes.ts";
import { rolloutsApiRouter } from "./http/rolloutsApi.ts";
import { RolloutController } from "./rollouts/rolloutController.ts";
import type { RollingConfig } from "./domain/rolloutOverlay.ts";
import { RolloutFile } from "./rollouts/rolloutFile.ts";
import { statusRouter } from "./http/status.ts";
import { webhookRouter } from "./http/webhook.ts";
import { whoamiRouter } from "./http/whoami.ts";
import { formatProblem } from "./problemFormat.ts";
import { createNotifier, type Notifier, type NotifyTuning } from "./notify/notifier.ts";
import { SeenCommits } from "./notify/seenCommits.ts";
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

/**
 * What changes when this composition is the primary of --workers processes: it answers no agent
 * (the workers do), listens on a Unix socket for what they forward, reads the fleet from what they
 * send, and tells them about every commit it serves.
 */
export interface PrimaryRole {
  /** The fleet view over the registry --registry chose: the workers' changes are absorbed into it. */
  readonly fleet: (registry: Absorbing) => AgentRegistry;
  readonly socketPath: string;
  /** A new commit is served here (after this process's own handling: its snapshot carries the rollouts' overlay). */
  readonly onServed: (state: RepoState, previous: RepoState) => void;
  /** The rollouts' overlay changed between commits (a wave advanced, a revert pinned a config). */
  readonly onRollouts: (entries: readonly RollingConfig[]) => void;
  /** Set once the rollout controller exists: workers report the agents they served a new version. */
  readonly rollouts: (controller: RolloutController) => void;
  /** Around every request (after the token check). */
  readonly middleware: readonly Middleware[];
  /** v2 heartbeats the workers hold (WaitForChange), for /status. */
  readonly heldHeartbeats: () => number;
  /** The workers, for /status. */
  readonly workers: () => readonly WorkerStatus[];
}

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

/**
 * The options with every setting not given at its default: applied once, at the start, so no
 * code below falls back on a value of its own (an explicit `undefined` counts as not given).
 */
export function withDefaults<O extends Partial<Settings>>(given: O): Readonly<Omit<O, keyof Defaults> & Defaults> {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return Object.freeze({ ...DEFAULTS, ...set }) as Omit<O, keyof Defaults> & Defaults;
}

const isLoopback = (host: string) => host === "localhost" || host === "::1" || host.startsWith("127.");

export function warnIfOpen(logger: Logger, host: string, userToken: string | undefined, tokens?: readonly unknown[]): void {
  if (!userToken && !tokens?.length && !isLoopback(host)) {
    logger.warn({ host }, "listening on a non-loopback address without a user token: anyone who can reach it can change configs (set --user-token-file)");
  }
}

/**
 * Agents cannot prove who they are (LoongCollector's providers send no token and speak plain
 * HTTP), so agent routes reachable from other machines with neither a token nor networks let
 * anyone claim to be an agent, and read the configs its claimed tags select.
 */
export function warnIfAgentsOpen(logger: Logger, host: string, agentToken: string | undefined, agentNetworks: readonly IpSelector[] | undefined): void {
  if (!agentToken && !agentNetworks?.length && !isLoopback(host)) {
    logger.warn({ host }, "agent routes are reachable on a non-loopback address with neither an agent token nor agent networks: anyone who can reach them can pose as an agent and read the configs of any tags (set --agent-networks or --agent-token-file; docs/security.md)");
  }
}

/** How often the refusal of new agents (--max-agents) is logged at most. */
const REFUSAL_LOG_MS = 60_000;

/** --max-agents for a registry: each refusal counted (configserver_agents_refused_total), logged at most once a minute. */
export function agentAdmission(maxAgents: number, metrics: Metrics, logger: Logger): AgentAdmission {
  let loggedAt = -Infinity;
  let unlogged = 0;
  return {
    maxAgents,
    onRefused: (agentId) => {
      metrics.agentRefused();
      unlogged++;
      const now = Date.now();
      if (now - loggedAt < REFUSAL_LOG_MS) return;
      logger.warn({ agentId, refused: unlogged, maxAgents }, "new agents refused: the server already knows --max-agents agents (known agents keep working)");
      loggedAt = now;
      unlogged = 0;
    },
  };
}

/**
 * The Host names the server answers to besides IP addresses and loopback names: the name it
 * listens on, this machine's name, and --allowed-hosts (whose names may also be a page's Origin).
 */
function servedNames(host: string, allowed: readonly string[] | undefined): BrowserGuardOptions {
  const names = [host.toLowerCase(), hostname().toLowerCase(), ...(allowed ?? [])];
  return { hosts: names, origins: allowed ?? [] };
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
  // A refused HEAD is looked at again on every sync and reload: one event per commit.
  const refusedSeen = new SeenCommits();
  // Set once the store is open; it lays the rollouts over each new snapshot before any agent sees it.
  let rollouts: RolloutController | undefined;
  const store = await RepoStore.open(options.repo, {
    author: options.author,
    lockWaitMs: options.lockWaitMs,
    contentLimits: { maxConfigSize: options.maxConfigSize, secrets: options.secrets },
    ...(readOnlyMessage ? { readOnlyMessage } : {}),
    maxFileSize: options.maxFileSize,
    events: {
      onServed: (state, previous, ms) => {
        rollouts?.onServed(state, previous);
        metrics.snapshotServed(ms);
        changes.fire();
        options.primary?.onServed(state, previous);
        fanout?.announce("commit", state.commit);
        logger.info({ commit: state.commit, previous: previous.commit, configs: state.configs.size, groups: state.groups.size, ms: Math.round(ms) }, "serving new commit");
      },
      onRefused: (r, served) => {
        metrics.commitRefused();
        if (refusedSeen.first(r.commit)) notifier.emit({ type: "commit.refused", commit: r.commit, problems: r.problems, served: served.commit });
        const problems = r.problems.map((p) => formatProblem(p));
        if (served.commit) logger.error({ commit: r.commit, problems, served: served.commit }, "commit failed validation; still serving the last valid commit");
        else logger.error({ commit: r.commit, problems }, "commit failed validation and no earlier commit is valid: agents are answered ServerBusy until a valid commit arrives");
      },
      onContentWarnings: (commit, warnings) => {
        logger.warn({ commit, warnings: warnings.map((w) => formatProblem(w)) }, "served configs hold credentials in plain text: write ${ENV_VAR} references instead (--secrets strict refuses them)");
      },
      onRepaired: (done) => logger.warn({ repaired: done }, "repaired what an interrupted write of an earlier server process left in the repository"),
      onWritten: (result, seconds) => metrics.writeCompleted(result, seconds),
      // The client's answer names paths relative to the repository; the full error is logged here.
      onWriteFailed: (e) => {
        const cause = (e as Error).cause;
        if (cause !== undefined) logger.warn({ err: cause, answered: (e as Error).message }, "write failed");
      },
      onRewoundRestored: ({ commit, rewoundTo, madeOnTop, restored, error }) => {
        const how = madeOnTop === 0 ? "HEAD is moved forward to it again" : `it is merged with the ${madeOnTop} commit(s) made on the rewound HEAD`;
        if (error === undefined) logger.warn({ commit, rewoundTo, madeOnTop, restored }, `a git reset --hard running beside a write moved HEAD back over the server's commit; ${how}`);
        else logger.error({ commit, rewoundTo, madeOnTop, err: error }, "a git reset --hard running beside a write moved HEAD back over the server's commit, and bringing it back failed: the acknowledged write is only in the reflog until someone merges it");
      },
      onSynced: (r) => {
        metrics.syncCompleted(r.ok);
        if (r.ok) logger.debug({ action: r.action }, "synced with remote");
        else if (r.blocked) logger.warn({ paths: r.blocked, error: r.error }, "sync cannot move the working tree: uncommitted edits are in the way");
        else logger.warn({ action: r.action, error: r.error }, "sync with remote failed");
      },
    },
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
    // A healthy start lists the shared fleet from the first request; an unreachable Redis only delays the start a little.
    if (!(await shared.connected(COMMAND_TIMEOUT_MS))) logger.warn({ registry: redactUrl(choice.url) }, "Redis is unreachable at start: serving agents, with a degraded fleet view until it is back");
    fanout = new CommitFanout({
      url: choice.url,
      logger,
      onAnnouncement: (a) => {
        if (a.kind === "commit" && a.commit === store.state.commit) return;
        logger.info({ kind: a.kind, commit: a.commit }, "another replica announced a change; syncing");
        void scheduler.trigger();
      },
      // Announcements sent while this replica was cut off from Redis are lost: look now.
      onResubscribed: () => void scheduler.trigger(),
    });
    logger.info({ registry: redactUrl(choice.url) }, "agents are shared through Redis; commits are announced to the other replicas");
  }
  rollouts = new RolloutController({ store, registry, file: new RolloutFile(`${gitDir}/configserver/rollouts.json`), readOnly: !!options.readOnly, logger, emit: (e) => notifier.emit(e), ...(options.primary ? { onOverlay: options.primary.onRollouts } : {}), ...(options.now ? { now: options.now } : {}) });
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
    statusRouter({ store, registry, readOnly: !!options.readOnly, dirty: () => dirty, heldHeartbeats: options.primary?.heldHeartbeats ?? (() => changes.waiting), ...(options.primary ? { workers: options.primary.workers } : {}) }),
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
      fanout?.close();
      await registry.close();
      await scheduler.stop();
      await watcher.close();
    })()),
  };
}
