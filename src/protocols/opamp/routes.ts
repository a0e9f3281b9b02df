import type { RouteSpec } from "../../http/route.ts";
import { pb, AGENT_TO_SERVER } from "./codec.ts";
import { OPAMP_ENVELOPE } from "./envelope.ts";
import { opampHandler } from "./handler.ts";
import type { AgentDeps } from "../protocol.ts";

/** Where OpAMP agents POST (the spec's conventional path). */
export const OPAMP_PATH = "/v1/opamp";

/**
 * OpAMP over plain HTTP as a route of today's route contract (src/http/route.ts): the one place
 * that knows how routes are registered; everything else of the protocol is in this folder.
 */
export function opampRoutes(deps: AgentDeps): RouteSpec<never>[] {
  const spec: RouteSpec<never> = {
    method: "POST",
    path: OPAMP_PATH,
    request: AGENT_TO_SERVER as never,
    response: pb.ServerToAgent as never,
    envelope: OPAMP_ENVELOPE,
    handle: opampHandler(deps) as never,
  };
  return [spec];
}
