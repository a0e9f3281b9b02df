import { compileRoute, type CompiledRoute } from "./compileRoute.ts";
import { compileShared } from "./compileShared.ts";
import { pickProtocol } from "./detect.ts";
import type { AnyRoute, RouteOptions } from "./routeContract.ts";

/**
 * Compiles message routes into what HTTP serves (createApp takes them). Where two protocols
 * register the same method and path, one route reads the body and lets detect.ts choose (in the
 * order they were given).
 */
export function compileRoutes(specs: readonly AnyRoute[], options: RouteOptions): CompiledRoute[] {
  const byPath = new Map<string, CompiledRoute[]>();
  for (const spec of specs) {
    const key = `${spec.method} ${spec.path}`;
    const list = byPath.get(key) ?? [];
    list.push(compileRoute(spec, options));
    byPath.set(key, list);
  }
  return [...byPath.values()].map((routes) => {
    if (routes.length === 1) return routes[0] as CompiledRoute;
    const first = routes[0] as CompiledRoute;
    const protocols = routes.map((r) => r.protocol);
    return compileShared(routes, (body, json) => {
      const chosen = pickProtocol(first.path, body, json);
      const i = typeof chosen === "string" && protocols.includes(chosen) ? protocols.indexOf(chosen) : -1;
      return i >= 0 ? i : typeof chosen === "object" ? chosen.error : `${first.path} is served for ${protocols.join(" and ")} agents, but the request is not a valid ${protocols.join(" or ")} message.`;
    });
  });
}

/** Route options of a server's logger: a handler's unexpected error is logged with its route and request id. */
export function routeOptions(bodyLimit: number, logger: { error(fields: object, message: string): void }, catchUp?: () => Promise<void>): RouteOptions {
  return { bodyLimit, onError: (error, route, requestId) => logger.error({ err: error, route, requestId }, "request failed"), catchUp };
}
