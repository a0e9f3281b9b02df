// The koa baseline: the least a koa + protobufjs server must do for an agent request. One
// middleware: raw body → bench/baselineRoutes.ts (decode the same request message, encode a
// response of the same size as the real server's, from a template captured from it). No router,
// no registry, no diff: throughput is reported as a ratio to this (and to bench/bareBaseline.ts).
// Run: node --import tsx bench/baseline.ts '<{"templates": {path: base64 response}, "v1": false}>' (or @FILE holding that JSON)
import type { AddressInfo } from "node:net";
import Koa from "koa";
import getRawBody from "raw-body";
import { baselineArgument, baselineRoutes } from "./baselineRoutes.ts";

/** `v1`: /Agent/HeartBeat decodes v1's HeartBeatRequest and answers v1's HeartBeatResponse (a separate baseline process). */
export function startBaseline(templates: Record<string, string>, port = 0, v1 = false): Promise<{ port: number; close(): void }> {
  const routes = baselineRoutes(templates, v1);
  const app = new Koa();
  app.use(async (ctx) => {
    const route = routes.get(ctx.path);
    if (!route) {
      ctx.status = 404;
      return;
    }
    const body = await getRawBody(ctx.req, { limit: 4 * 1024 * 1024 });
    const echo = route.decode(body);
    const answer = route.answer(echo);
    ctx.set("x-log-requestid", route.headerId(echo));
    ctx.type = "application/x-protobuf";
    ctx.body = answer;
  });
  return new Promise((resolve) => {
    const server = app.listen(port, "127.0.0.1", () => {
      server.keepAliveTimeout = 65_000;
      resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() });
    });
  });
}

if (process.argv[1]?.endsWith("/baseline.ts")) {
  const arg = baselineArgument(process.argv[2]);
  const b = await startBaseline(arg.templates ?? {}, 0, arg.v1 ?? false);
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${b.port}` }) + "\n");
  // A normal exit, so that --cpu-prof writes its profile.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
}
