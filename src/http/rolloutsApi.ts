import Router from "@koa/router";
import type { Context } from "koa";
import { DomainError } from "../domain/errors.ts";
import { isValidName, nameRuleMessage } from "../domain/names.ts";
import type { OperatorAction, RolloutController } from "../rollouts/rolloutController.ts";
import { rolloutView } from "../rollouts/rolloutView.ts";
import { jsonRoute } from "./jsonRoute.ts";
import { writeOptions } from "./writeOptions.ts";

const ACTIONS: readonly OperatorAction[] = ["pause", "resume", "promote", "abort"];

function kindOf(ctx: Context): "pipeline" | "instance" | undefined {
  const k = ctx.query.kind;
  if (k === undefined) return undefined;
  if (k === "pipeline" || k === "instance") return k;
  throw new DomainError("InvalidParameter", `kind must be pipeline or instance, got ${JSON.stringify(k)}.`);
}

function nameOf(ctx: Context): string {
  const name = (ctx.params as Record<string, string>).name ?? "";
  if (!isValidName(name)) throw new DomainError("InvalidParameter", nameRuleMessage("config", name));
  return name;
}

/**
 * The rollouts (src/rollouts/):
 *   GET  /api/v1/rollouts                    every rollout kept (in progress, and recent completed ones)
 *   GET  /api/v1/rollouts/:name[?kind=]      one, by config name (pipeline first; kind=instance for an instance config)
 *   POST /api/v1/rollouts/:name/pause|resume|promote|abort
 * An action is recorded in the rollout's history with who asked: the X-Configserver-Author header,
 * else "an API user". Token-protected like the rest of /api/.
 */
export function rolloutsApiRouter(deps: { readonly rollouts: RolloutController }): Router {
  const router = new Router();
  router.get(["/api/v1/rollouts", "/api/v1/rollouts/"], jsonRoute(() => ({ message: "List rollouts success", rollouts: deps.rollouts.list().map(rolloutView) })));
  router.get("/api/v1/rollouts/:name", jsonRoute((ctx) => {
    const name = nameOf(ctx);
    const r = deps.rollouts.find(name, kindOf(ctx));
    if (!r) throw new DomainError("ConfigNotExist", `No rollout of config ${name}: GET /api/v1/rollouts lists them.`);
    return { message: "Get rollout success", ...rolloutView(r) };
  }));
  router.post("/api/v1/rollouts/:name/:action", jsonRoute(async (ctx) => {
    const name = nameOf(ctx);
    const action = (ctx.params as Record<string, string>).action as OperatorAction;
    if (!ACTIONS.includes(action)) throw new DomainError("InvalidParameter", `Unknown rollout action ${JSON.stringify(action)}: use one of ${ACTIONS.join(", ")}.`);
    const author = writeOptions(ctx.req).author;
    const who = author ? `${author.name} <${author.email}>` : "an API user";
    const r = await deps.rollouts.act(name, action, who, kindOf(ctx));
    return { message: `Rollout ${action} success`, ...rolloutView(r) };
  }));
  return router;
}
