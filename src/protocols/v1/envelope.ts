import { HTTP_STATUS } from "../../http/errors.ts";
import type { Envelope } from "../routeContract.ts";
import { configserver } from "../../gen/proto.js";

const { ACCEPT, INVALID_PARAMETER, INTERNAL_SERVER_ERROR } = configserver.proto.v1.RespCode;

/**
 * Protocol v1's answer (docs/protocols/v1.md): `request_id` echoed (the agent drops an answer
 * whose id differs), `code` a RespCode and a `message`. v1 has two failure codes: every 4xx of the
 * one table is INVALID_PARAMETER, every 5xx INTERNAL_SERVER_ERROR; the HTTP status stays the table's.
 */
export const V1_ENVELOPE: Envelope = {
  protocol: "v1",
  echoField: 1,
  echo: (request) => (request as { request_id?: string | null }).request_id ?? "",
  ok: (echo, reply) => {
    const out: Record<string, unknown> = Object.assign({}, reply);
    out.request_id = echo;
    out.code = ACCEPT;
    out.message = reply.message ?? "";
    return out;
  },
  fail: (echo, code, message) => ({ request_id: echo, code: HTTP_STATUS[code] >= 500 ? INTERNAL_SERVER_ERROR : INVALID_PARAMETER, message }),
};
