import type { Envelope } from "../routeContract.ts";
import { HTTP_STATUS } from "../../http/errors.ts";

const EMPTY = new Uint8Array(0);
const OK = Object.freeze({ status: 0, errorMessage: EMPTY });

/**
 * Protocol v2's answer: `request_id` (bytes) echoed, and `common_response` with status 0 on
 * success, else the answer's HTTP status and a message naming the problem.
 */
export const V2_ENVELOPE: Envelope = {
  protocol: "v2",
  echoField: 1,
  echo: (request) => (request as { request_id?: Uint8Array | null }).request_id ?? EMPTY,
  ok: (echo, reply) => {
    const out: Record<string, unknown> = Object.assign({}, reply);
    out.request_id = echo;
    out.common_response = OK;
    return out;
  },
  fail: (echo, code, message) => ({ request_id: echo, common_response: { status: HTTP_STATUS[code], errorMessage: Buffer.from(message) } }),
};
