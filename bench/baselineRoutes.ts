// What both baselines (bench/baseline.ts on koa, bench/bareBaseline.ts on bare node:http) do per
// agent request, so that they differ only in the HTTP layer: decode the same request message the
// real server decodes, build a fresh response message from a template captured from the real
// server (the request's id echoed, the repeated field's entries copied, as a handler builds
// them), encode it. No registry, no diff, no metrics, no log.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { configserver, opamp } from "../src/gen/proto.js";

const pb = configserver.proto;

interface Codec {
  decode(b: Uint8Array): Record<string, unknown>;
  encode(m: object): { finish(): Uint8Array };
  toObject(m: never, o: object): Record<string, unknown>;
}

export interface BaselineRoute {
  /** Decodes the request; returns the id the answer echoes (a string, or bytes for v2). */
  decode(body: Uint8Array): unknown;
  /** The x-log-requestid of an echoed id. */
  headerId(echo: unknown): string;
  /** A fresh answer message with `echo`, encoded. */
  answer(echo: unknown): Buffer;
}

/**
 * Templates: path → a response the real server gave (base64). `v1`: /Agent/HeartBeat speaks
 * protocol v1 instead of alpha (the two share the path; a baseline process serves one of them).
 */
export function baselineRoutes(templates: Readonly<Record<string, string>>, v1 = false): Map<string, BaselineRoute> {
  const routes = new Map<string, BaselineRoute>();
  // echo: the response field that carries the request's id; list: the repeated field copied per request.
  const add = (path: string, request: unknown, response: unknown, echo: string, list: string, fallback: Record<string, unknown>, bytesId = false) => {
    const req = request as Codec;
    const res = response as Codec;
    const bytes = templates[path];
    const template = bytes ? res.toObject(res.decode(Buffer.from(bytes, "base64")) as never, { longs: Number }) : fallback;
    const items = template[list] as Record<string, unknown>[] | undefined;
    routes.set(path, {
      decode: (body) => req.decode(body)[echo === "response_id" ? "request_id" : echo] ?? (bytesId ? new Uint8Array(0) : ""),
      headerId: bytesId ? (e) => Buffer.from((e as Uint8Array).buffer, (e as Uint8Array).byteOffset, (e as Uint8Array).length).toString("latin1") : (e) => e as string,
      answer: (e) => {
        const message: Record<string, unknown> = { ...template, [echo]: e };
        if (items) message[list] = items.map((i) => ({ ...i }));
        return Buffer.from(res.encode(message).finish());
      },
    });
  };
  if (v1) add("/Agent/HeartBeat", pb.v1.HeartBeatRequest, pb.v1.HeartBeatResponse, "request_id", "pipeline_check_results", { code: 0, message: "" });
  else add("/Agent/HeartBeat", pb.HeartBeatRequest, pb.HeartBeatResponse, "response_id", "config_update_infos", { code: "Accept", message: "" });
  add("/Agent/GetConfigList", pb.AgentGetConfigListRequest, pb.AgentGetConfigListResponse, "response_id", "config_update_infos", { code: "Accept", message: "" });
  add("/Agent/Heartbeat", pb.v2.HeartbeatRequest, pb.v2.HeartbeatResponse, "request_id", "continuous_pipeline_config_updates", { common_response: { status: 0 }, capabilities: 7 }, true);
  // The other agent routes (bench/workers.ts measures every one).
  add("/Agent/RunningStatistics", pb.RunningStatisticsRequest, pb.RunningStatisticsResponse, "response_id", "", { code: "Accept", message: "" });
  add("/Agent/Alarm", pb.AlarmRequest, pb.AlarmResponse, "response_id", "", { code: "Accept", message: "" });
  if (v1) {
    add("/Agent/FetchPipelineConfig", pb.v1.FetchPipelineConfigRequest, pb.v1.FetchPipelineConfigResponse, "request_id", "config_details", { code: 0, message: "" });
    add("/Agent/FetchAgentConfig", pb.v1.FetchAgentConfigRequest, pb.v1.FetchAgentConfigResponse, "request_id", "config_details", { code: 0, message: "" });
  } else add("/Agent/FetchPipelineConfig", pb.v2.FetchConfigRequest, pb.v2.FetchConfigResponse, "request_id", "continuous_pipeline_config_updates", { common_response: { status: 0 } }, true);
  add("/Agent/FetchInstanceConfig", pb.v2.FetchConfigRequest, pb.v2.FetchConfigResponse, "request_id", "instance_config_updates", { common_response: { status: 0 } }, true);
  add("/Agent/ReportStatus", pb.v2.ReportStatusRequest, pb.v2.ReportStatusResponse, "request_id", "", { common_response: { status: 0 } }, true);
  add("/v1/opamp", opamp.proto.v1.AgentToServer, opamp.proto.v1.ServerToAgent, "instance_uid", "", { capabilities: 7 }, true);
  // An instance_uid is 16 binary bytes, not header text: the server then makes a UUID per request, as here.
  const opampRoute = routes.get("/v1/opamp") as BaselineRoute;
  routes.set("/v1/opamp", { ...opampRoute, headerId: () => randomUUID() });
  return routes;
}

/** A baseline process's argument: its JSON, or `@FILE` holding it (templates of 100 configs exceed an argument's size). */
export function baselineArgument(arg: string | undefined): { templates?: Record<string, string>; v1?: boolean } {
  const text = arg === undefined ? "{}" : arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg;
  return JSON.parse(text) as { templates?: Record<string, string>; v1?: boolean };
}
