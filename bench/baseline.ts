// The baseline: the least a koa + protobufjs server must do for an agent request. It reads the raw
// body, decodes the same request message the real server decodes, and encodes a response of the
// same size as the real server's (built from a template response captured from it). No router,
// no registry, no diff: throughput is reported as a ratio to this.
// Run: node --import tsx bench/baseline.ts '<{"templates": {path: base64 response}}>'
import type { AddressInfo } from "node:net";
import Koa from "koa";
import getRawBody from "raw-body";
import { configserver } from "../src/gen/proto.js";

const pb = configserver.proto;

interface Codec {
  decode(b: Uint8Array): { request_id?: string | null };
  encode(m: object): { finish(): Uint8Array };
}

interface Route {
  request: Codec;
  response: Codec;
  template: Record<string, unknown>;
  infos: Record<string, unknown>[] | undefined;
  /** The response field that echoes request_id: alpha's response_id, v1's request_id. */
  echo: string;
}

/** `v1`: /Agent/HeartBeat decodes v1's HeartBeatRequest and answers v1's HeartBeatResponse (a separate baseline process). */
export function startBaseline(templates: Record<string, string>, port = 0, v1 = false): Promise<{ port: number; close(): void }> {
  const routes = new Map<string, Route>();
  const add = (path: string, request: Codec, response: Codec & { toObject(m: never, o: object): Record<string, unknown> }, echo = "response_id") => {
    const bytes = templates[path];
    const template = bytes ? response.toObject(response.decode(Buffer.from(bytes, "base64")) as never, { longs: Number }) : { code: "Accept", message: "" };
    const infos = template.config_update_infos as Record<string, unknown>[] | undefined;
    routes.set(path, { request, response, template, infos, echo });
  };
  if (v1) add("/Agent/HeartBeat", configserver.proto.v1.HeartBeatRequest as never, configserver.proto.v1.HeartBeatResponse as never, "request_id");
  else add("/Agent/HeartBeat", pb.HeartBeatRequest as never, pb.HeartBeatResponse as never);
  add("/Agent/GetConfigList", pb.AgentGetConfigListRequest as never, pb.AgentGetConfigListResponse as never);

  const app = new Koa();
  app.use(async (ctx) => {
    const route = routes.get(ctx.path);
    if (!route) {
      ctx.status = 404;
      return;
    }
    const body = await getRawBody(ctx.req, { limit: 4 * 1024 * 1024 });
    const q = route.request.decode(body);
    // A fresh message per request, like a handler builds one.
    const message = { ...route.template, [route.echo]: q.request_id ?? "", ...(route.infos ? { config_update_infos: route.infos.map((i) => ({ ...i })) } : {}) };
    ctx.set("x-log-requestid", q.request_id ?? "");
    ctx.type = "application/x-protobuf";
    ctx.body = Buffer.from(route.response.encode(message).finish());
  });
  return new Promise((resolve) => {
    const server = app.listen(port, "127.0.0.1", () => {
      server.keepAliveTimeout = 65_000;
      resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() });
    });
  });
}

if (process.argv[1]?.endsWith("baseline.ts")) {
  const arg = JSON.parse(process.argv[2] ?? "{}") as { templates?: Record<string, string>; v1?: boolean };
  const b = await startBaseline(arg.templates ?? {}, 0, arg.v1 ?? false);
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${b.port}` }) + "\n");
  // A normal exit, so that --cpu-prof writes its profile.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0));
}
