import Router from "@koa/router";
import type { Context } from "koa";
import type { AgentRecord, ConfigKind } from "../domain/agent.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import type { RepoState } from "../domain/repoState.ts";
import { rolloutOf, type Rollout } from "../domain/rollout.ts";
import { answerCode, NOT_PROTOCOL } from "./codeAnswer.ts";

export interface RolloutDeps {
  readonly store: { readonly state: RepoState };
  readonly registry: AgentRegistry;
}

async function liveAgents(registry: AgentRegistry): Promise<AgentRecord[]> {
  const all: AgentRecord[] = [];
  await registry.each((a) => all.push(a));
  return all;
}

/**
 * GET /api/v1/configs/:name/rollout and /api/v1/instance-configs/:name/rollout: how the served
 * version reached the agents it targets (src/domain/rollout.ts). 404 when the served commit has
 * no such config.
 */
export function rolloutRouter(deps: RolloutDeps): Router {
  const router = new Router();
  const serve = (kind: ConfigKind, what: string) => async (ctx: Context) => {
    const name = (ctx.params as Record<string, string>).name as string;
    const r: Rollout | undefined = rolloutOf(deps.store.state, kind, name, await liveAgents(deps.registry));
    if (!r) return answerCode(ctx, NOT_PROTOCOL, "ConfigNotExist", `${what} ${name} doesn't exist in the served commit.`);
    ctx.body = { code: "Accept", message: "Get rollout success", servedCommit: deps.store.state.commit, ...r };
  };
  router.get("/api/v1/configs/:name/rollout", serve("pipeline", "Config"));
  router.get("/api/v1/instance-configs/:name/rollout", serve("instance", "Instance config"));
  return router;
}
