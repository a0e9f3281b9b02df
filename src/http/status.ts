import Router from "@koa/router";
import type { AgentRegistry } from "../domain/registry.ts";
import type { RepoStore } from "../store/repoStore.ts";

export interface StatusDeps {
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
  readonly readOnly: boolean;
  /** v2 heartbeats held by WaitForChange right now. */
  readonly heldHeartbeats?: () => number;
  /** Uncommitted state-file changes in the working tree, as last seen by the watcher. */
  readonly dirty: () => readonly string[];
}

function byProtocol(registry: AgentRegistry): Record<string, number> {
  const counts: Record<string, number> = { alpha: 0, v1: 0, v2: 0 };
  registry.each((a) => {
    const p = a.heartbeat?.protocol;
    if (p) counts[p] = (counts[p] ?? 0) + 1;
  });
  return counts;
}

/** `GET /status`: what an operator asks first — which commit is served, and is anything wrong. */
export function statusRouter(deps: StatusDeps): Router {
  const router = new Router();
  router.get(["/status", "/status/"], (ctx) => {
    const { store } = deps;
    const state = store.state;
    const remote = store.remote;
    ctx.body = {
      commit: state.commit || null,
      committedAt: state.committedAt ? new Date(state.committedAt).toISOString() : null,
      depth: state.depth,
      configs: state.configs.size,
      groups: state.groups.size,
      agents: deps.registry.liveCount(),
      agentsByProtocol: byProtocol(deps.registry),
      heldHeartbeats: deps.heldHeartbeats?.() ?? 0,
      instanceConfigs: state.instanceConfigs.size,
      // Configs whose content is not a YAML or JSON mapping: v2 agents never receive them.
      notForV2: state.notMappings,
      readOnly: deps.readOnly,
      writer: store.writer,
      versionIndex: store.versionStartup ?? null,
      refused: store.refused ?? null,
      dirty: deps.dirty(),
      remote: remote ? { url: remote.options.url, branch: remote.options.branch } : null,
      lastSync: store.lastSync ? { ...store.lastSync, at: new Date(store.lastSync.at).toISOString() } : null,
      lastFetchError: remote?.lastFetchError ?? null,
      lastPushError: remote?.lastPushError ?? null,
      refusedRewrite: remote?.refusedRewrite ?? null,
    };
  });
  return router;
}
