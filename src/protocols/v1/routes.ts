import type { RouteSpec } from "../../http/route.ts";
import type { AgentDeps } from "../protocol.ts";

/** Protocol v1 routes (to come). */
export function v1Routes(_deps: AgentDeps): RouteSpec<never>[] {
  return [];
}
