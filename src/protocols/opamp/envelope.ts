import type { Code } from "../../http/errors.ts";
import type { Envelope } from "../routeContract.ts";
import { opamp } from "../../gen/proto.js";

const EMPTY = new Uint8Array(0);
const ErrorType = opamp.proto.v1.ServerErrorResponseType;
/** How long an agent refused for a passing reason (no servable commit, overload) waits before retrying. */
export const RETRY_AFTER_SECONDS = 30;

const TRANSIENT = new Set<Code>(["ServerBusy", "RequestTimeout"]);
const BAD_REQUEST = new Set<Code>(["BadRequest", "InvalidParameter"]);

/**
 * OpAMP's answer is a ServerToAgent whose `instance_uid` (field 1) is the agent's: a client
 * ignores an answer for another instance. A refusal is its `error_response`: BadRequest for what
 * the agent sent, Unavailable with `retry_info` when the server cannot answer now (the agent then
 * retries later and keeps what it runs), Unknown otherwise.
 */
export const OPAMP_ENVELOPE: Envelope = {
  protocol: "opamp",
  echoField: 1,
  echo: (request) => (request as { instance_uid?: Uint8Array | null }).instance_uid ?? EMPTY,
  ok: (echo, reply) => {
    const out: Record<string, unknown> = Object.assign({}, reply);
    out.instance_uid = echo;
    return out;
  },
  fail: (echo, code, message) => {
    const transient = TRANSIENT.has(code);
    const type = transient ? ErrorType.ServerErrorResponseType_Unavailable : BAD_REQUEST.has(code) ? ErrorType.ServerErrorResponseType_BadRequest : ErrorType.ServerErrorResponseType_Unknown;
    return {
      instance_uid: echo,
      error_response: { type, error_message: message, ...(transient ? { retry_info: { retry_after_nanoseconds: RETRY_AFTER_SECONDS * 1e9 } } : {}) },
    };
  },
};
