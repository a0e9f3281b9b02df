import type { RouteSpec } from "../../http/route.ts";
import type { AgentDeps } from "../protocol.ts";

/** Protocol v2 routes (to come). */
export function v2Routes(_deps: AgentDeps): RouteSpec<never>[] {
  return [];
}
