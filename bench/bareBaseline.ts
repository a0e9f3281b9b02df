// The bare baseline: the least any Node server must do for an agent request, with no framework.
// node:http's request listener reads the body, then bench/baselineRoutes.ts decodes the same
// request message with protobufjs and encodes a response of the same size as the real server's
// (from a template captured from it), as bench/baseline.ts does on koa. The answer carries the
// headers the real server sends (Content-Type, Content-Length, x-log-requestid). No router, no
// registry, no metrics, no log, no timeout, no limit: the agent path is reported as a ratio to
// this (the floor of Node itself) and to the koa baseline.
// Run: node --import tsx bench/bareBaseline.ts '<{"templates": {path: base64 response}, "v1": false}>' (or @FILE holding that JSON)
//   → one JSON line {"url": …} on stdout; SIGTERM/SIGINT exit normally (so --cpu-prof writes).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { baselineArgument, baselineRoutes, type BaselineRoute } from "./baselineRoutes.ts";

const PROTOBUF = "application/x-protobuf";

/**
 * Serves every agent route (bench/baselineRoutes.ts; `/Agent/HeartBeat` and
 * `/Agent/FetchPipelineConfig` speak v1 when `v1`), each answering its template; anything else is a 404.
 */
export function startBareBaseline(templates: Record<string, string>, port = 0, v1 = false): Promise<{ port: number; close(): void }> {
  const routes = baselineRoutes(templates, v1);
  const reply = (res: ServerResponse, route: BaselineRoute, body: Buffer) => {
    const echo = route.decode(body);
    const answer = route.answer(echo);
    res.writeHead(200, { "content-type": PROTOBUF, "content-length": answer.length, "x-log-requestid": route.headerId(echo) });
    res.end(answer);
  };
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const route = routes.get(req.url as string);
    if (route === undefined) {
      res.writeHead(404, { "content-length": 0 }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => reply(res, route, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
  };
  return new Promise((resolve) => {
    const server = createServer(serve).listen(port, "127.0.0.1", () => {
      server.keepAliveTimeout = 65_000;
      resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() });
    });
  });
}

if (process.argv[1]?.endsWith("/bareBaseline.ts")) {
  const arg = baselineArgument(process.argv[2]);
  const b = await startBareBaseline(arg.templates ?? {}, 0, arg.v1 ?? false);
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${b.port}` }) + "\n");
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
}
