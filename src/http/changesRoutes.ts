import Router from "@koa/router";
import type { Context } from "koa";
import type { AgentRecord } from "../domain/agent.ts";
import { DomainError } from "../domain/errors.ts";
import { recentChanges } from "../domain/recentChanges.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import { rolloutOf } from "../domain/rollout.ts";
import { readRecentCommits } from "../store/recentCommits.ts";
import type { RepoStore } from "../store/repoStore.ts";
import { jsonRoute } from "./jsonRoute.ts";

export interface ChangesDeps {
  readonly store: RepoStore;
  readonly registry: AgentRegistry;
  readonly onError?: (error: unknown, ctx: Context) => void;
}

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 50;

/**
 * GET /api/v1/changes?limit=N — the last N first-parent commits of HEAD (default 10, at most 50),
 * newest first, for the console's overview: author, date, subject, the configs and groups each
 * touched, and for each config whether that change is what agents are served and its rollout
 * (src/domain/recentChanges.ts).
 */
export function changesRouter(deps: ChangesDeps): Router {
  const router = new Router();
  router.get("/api/v1/changes", jsonRoute(async (ctx) => {
    const limit = parseLimit(ctx.query.limit);
    const { store } = deps;
    const state = store.state;
    const commits = await readRecentCommits(store.git, limit);
    const agents: AgentRecord[] = [];
    await deps.registry.each((a) => agents.push(a));
    const changes = recentChanges(commits, state, store.refused?.commit, (kind, name) => rolloutOf(state, kind, name, agents, 0));
    return { message: "Get recent changes success", servedCommit: state.commit || null, changes };
  }, deps.onError));
  return router;
}

function parseLimit(value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LIMIT) throw new DomainError("InvalidParameter", `Query parameter limit must be a number of commits from 1 to ${MAX_LIMIT}, got ${JSON.stringify(value)}.`);
  return n;
}
