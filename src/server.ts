import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Logger } from "pino";
import { AgentRegistry } from "./agents/agentRegistry.ts";
import { createApp } from "./http/app.ts";
import { historyRouter } from "./http/historyRoutes.ts";
import { createLogger } from "./logger.ts";
import { statusRouter } from "./http/status.ts";
import { webhookRouter } from "./http/webhook.ts";
import { formatProblem, RepoStore, type Author } from "./store/repoStore.ts";
import { RepoWatcher } from "./store/repoWatcher.ts";
import { SyncScheduler } from "./store/syncScheduler.ts";

export interface ServerOptions {
  /** The served git repository; created when missing or empty. */
  readonly repo: string;
  readonly host?: string;
  /** 0 picks a free port (tests). */
  readonly port?: number;
  readonly bodyLimit?: number;
  readonly readOnly?: boolean;
  readonly author?: Author;
  readonly logger?: Logger;
  /** Agents silent this long are dropped; 0 keeps them. */
  readonly agentTtlMs?: number;
  readonly now?: () => number;
  /** Remote to clone, follow and push to (issue 3). */
  readonly remote?: string;
  /** Branch of the remote to follow; default "main". */
  readonly branch?: string;
  /** How often to fetch the remote; jitter is added. Default 30 s. */
  readonly syncIntervalMs?: number;
  /** Follow a remote branch whose history was rewritten (not a fast-forward). */
  readonly allowHistoryRewrite?: boolean;
  /** Shared secret verifying push webhooks on POST /hooks/git. */
  readonly webhookSecret?: string;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
  close(): Promise<void>;
}

export const DEFAULTS = { host: "127.0.0.1", port: 8899, bodyLimit: 4 * 1024 * 1024 } as const;

/** Builds and starts the whole server; the CLI and the black-box tests both call this. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger("info");
  const store = await RepoStore.open(options.repo, {
    ...(options.author ? { author: options.author } : {}),
    events: {
      onServed: (state, previous, ms) => logger.info({ commit: state.commit, previous: previous.commit, configs: state.configs.size, groups: state.groups.size, ms: Math.round(ms) }, "serving new commit"),
      onRefused: (r) => logger.error({ commit: r.commit, problems: r.problems.map(formatProblem) }, "commit failed validation; still serving the previous one"),
      onSynced: (r) => (r.ok ? logger.debug({ action: r.action }, "synced with remote") : logger.warn({ action: r.action, error: r.error }, "sync with remote failed")),
    },
    ...(options.remote
      ? { remote: { url: options.remote, branch: options.branch ?? "main", allowHistoryRewrite: options.allowHistoryRewrite ?? false } }
      : {}),
  });
  // Without a remote the periodic sync only rereads HEAD: a safety net under the file watcher.
  const scheduler = new SyncScheduler(store, { intervalMs: options.syncIntervalMs ?? 30_000 });
  let dirty: string[] = [];
  const watcher = new RepoWatcher(options.repo, store.git, {
    onRefsChanged: () => void store.refresh().catch((err: unknown) => logger.error({ err }, "reloading HEAD failed")),
    onDirty: (paths) => {
      if (paths.join("\0") !== dirty.join("\0") && paths.length > 0) {
        logger.warn({ paths }, "uncommitted changes in the working tree are not served; commit them to take effect");
      }
      dirty = paths;
    },
  });
  await watcher.start();
  scheduler.start();
  const registry = new AgentRegistry({ ttlMs: options.agentTtlMs ?? 0, ...(options.now ? { now: options.now } : {}) });
  const readOnlyMessage = options.readOnly
    ? "This config server is read-only: change configs and agent groups by opening a pull request against the config repository."
    : undefined;
  const extra = [
    webhookRouter({ secret: options.webhookSecret, onPush: (provider) => {
      logger.info({ provider }, "push webhook received; syncing");
      void scheduler.trigger();
    } }),
    statusRouter({ store, registry, readOnly: !!options.readOnly, dirty: () => dirty }),
  ];
  const app = createApp({ store, registry, ...(readOnlyMessage ? { readOnlyMessage } : {}) }, { bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit, logger }, [...extra, historyRouter({ store, ...(readOnlyMessage ? { readOnlyMessage } : {}) })]);
  const host = options.host ?? DEFAULTS.host;
  const http: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? DEFAULTS.port, host, () => resolve(s));
    s.once("error", reject);
  });
  http.keepAliveTimeout = 65_000;
  const port = (http.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info({ url, repo: options.repo, commit: store.state.commit || null, readOnly: !!options.readOnly }, "configserver listening");
  return {
    url,
    port,
    store,
    registry,
    close: async () => {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeIdleConnections();
      });
      await scheduler.stop();
      await watcher.close();
    },
  };
}
