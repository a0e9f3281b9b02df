import type { opamp } from "../../gen/proto.js";
import { agentRoute, type AnyRoute } from "../routeContract.ts";
import type { AgentDeps } from "../protocol.ts";
import { pb, AGENT_TO_SERVER } from "./codec.ts";
import { OPAMP_ENVELOPE } from "./envelope.ts";
import { opampHandler } from "./handler.ts";

/** Where OpAMP agents POST (the spec's conventional path). */
export const OPAMP_PATH = "/v1/opamp";

/** OpAMP over plain HTTP: one route, AgentToServer in, ServerToAgent out, in OpAMP's envelope. */
export function opampRoutes(deps: AgentDeps): AnyRoute[] {
  return [
    agentRoute<opamp.proto.v1.AgentToServer>(OPAMP_ENVELOPE, {
      path: OPAMP_PATH,
      request: AGENT_TO_SERVER,
      response: pb.ServerToAgent,
      handle: opampHandler(deps),
    }),
  ];
}
