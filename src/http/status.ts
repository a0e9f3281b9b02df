import Router from "@koa/router";
import type { AgentRegistry } from "../domain/registry.ts";
import { redactSecrets } from "../store/redact.ts";
import type { StoreStatus } from "../store/storeStatus.ts";

/** One worker process (--workers), as /status shows it. */
export interface WorkerStatus {
  /** node:cluster's worker id: 1, 2, … (a replacement gets the next one). */
  readonly id: number;
  readonly pid: number | undefined;
  /** "starting" until it listens, "serving", or "stopping". */
  readonly state: "starting" | "serving" | "stopping";
  /** The commit it serves (it said so after building the snapshot). */
  readonly commit: string | null;
  /** Requests it received, agents' and those it forwarded to the primary (as of its last report). */
  readonly requests: number;
  readonly heldHeartbeats: number;
  /** Resident memory of the process (as of its last report). */
  readonly rssBytes: number;
  readonly startedAt: string;
}

export interface StatusDeps {
  readonly store: StoreStatus;
  readonly registry: AgentRegistry;
  readonly readOnly: boolean;
  /** v2 heartbeats held by WaitForChange right now. */
  readonly heldHeartbeats?: () => number;
  /** Uncommitted state-file changes in the working tree, as last seen by the watcher. */
  readonly dirty: () => readonly string[];
  /** With --workers above 1: the worker processes. */
  readonly workers?: () => readonly WorkerStatus[];
  /** Whether this process decides the rollouts (false on a replica that serves what the one holding the lease shares). */
  readonly decidesRollouts: () => boolean;
}

/** Live agents of the fleet, in all and by protocol, from one pass. */
async function agentCounts(registry: AgentRegistry): Promise<{ agents: number; byProtocol: Record<string, number> }> {
  const byProtocol: Record<string, number> = { alpha: 0, v1: 0, v2: 0 };
  let agents = 0;
  await registry.each((a) => {
    const p = a.heartbeat?.protocol;
    agents++;
    if (p) byProtocol[p] = (byProtocol[p] ?? 0) + 1;
  });
  return { agents, byProtocol };
}

/** `GET /status`: what an operator asks first — which commit is served, and is anything wrong. */
export function statusRouter(deps: StatusDeps): Router {
  const router = new Router();
  router.get(["/status", "/status/"], async (ctx) => {
    const { store } = deps;
    const counts = await agentCounts(deps.registry);
    const state = store.state;
    const remote = store.remote;
    ctx.body = {
      commit: state.commit || null,
      committedAt: state.committedAt ? new Date(state.committedAt).toISOString() : null,
      depth: state.depth,
      configs: state.configs.size,
      groups: state.groups.size,
      agents: counts.agents,
      agentsByProtocol: counts.byProtocol,
      // Where those counts come from: this process only, or the replicas' shared view (and whether it is whole).
      fleetView: deps.registry.status(),
      heldHeartbeats: deps.heldHeartbeats?.() ?? 0,
      workers: deps.workers?.() ?? null,
      // Replicas on one Redis: only one evaluates the rollouts and acts (docs/deployment.md).
      rollouts: { deciding: deps.decidesRollouts() },
      instanceConfigs: state.instanceConfigs.size,
      // Configs whose content is not a YAML or JSON mapping: v2 agents never receive them.
      notForV2: state.notMappings,
      readOnly: deps.readOnly,
      writer: store.writer,
      versionIndex: store.versionStartup ?? null,
      refused: store.refused ?? null,
      notServable: store.notServableReason ?? null,
      dirty: deps.dirty(),
      // Credentials in the remote's URL are the operator's, never shown (the errors are redacted where they are made; again here).
      remote: remote ? { url: redactSecrets(remote.options.url), branch: remote.options.branch } : null,
      lastSync: store.lastSync ? { ...store.lastSync, at: new Date(store.lastSync.at).toISOString(), ...(store.lastSync.error ? { error: redactSecrets(store.lastSync.error) } : {}) } : null,
      lastFetchError: redactSecrets(remote?.lastFetchError) ?? null,
      lastPushError: redactSecrets(remote?.lastPushError) ?? null,
      refusedRewrite: remote?.refusedRewrite ?? null,
    };
  });
  return router;
}
