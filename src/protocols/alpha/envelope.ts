import type { Envelope } from "../routeContract.ts";

/**
 * The alpha protocol's answer: every response message starts with
 * `response_id` (the request's `request_id`), `code` (a string: "Accept" or the error's name) and
 * `message`. The User API (/User/*) answers the same way.
 */
function alpha(protocol: string): Envelope {
  return {
    protocol,
    echoField: 1,
    echo: (request) => (request as { request_id?: string | null }).request_id ?? "",
    ok: (echo, reply) => {
      const out: Record<string, unknown> = Object.assign({}, reply);
      out.response_id = echo;
      out.code = "Accept";
      out.message = reply.message ?? "";
      return out;
    },
    fail: (echo, code, message) => ({ response_id: echo, code, message }),
  };
}

export const ALPHA_ENVELOPE = alpha("alpha");
export const USER_ENVELOPE = alpha("user");
