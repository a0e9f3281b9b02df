import type { IncomingMessage } from "node:http";

/**
 * Content negotiation of message routes: a request body is protobuf JSON or binary by its
 * Content-Type, and the answer is JSON when the body is, or when the Accept header prefers
 * application/json to application/x-protobuf (curl, a browser's script). Agents send binary and
 * no Accept (or a wildcard): each test is one cheap check for them.
 */

export const PROTOBUF = "application/x-protobuf";
export const JSON_UTF8 = "application/json; charset=utf-8";
const JSON_TYPE = /^application\/json\b/i;

/** Whether a Content-Type says protobuf JSON rather than binary. */
export const isJsonType = (contentType: string | undefined) => contentType !== undefined && contentType !== PROTOBUF && JSON_TYPE.test(contentType);

/** Whether an Accept header prefers application/json to application/x-protobuf. Wildcards keep the binary answer. */
export function acceptsJsonType(accept: string | undefined): boolean {
  // Agents send no Accept, or */*: one cheap test on the agent path.
  if (accept === undefined || !accept.includes("json")) return false;
  return quality(accept, "application/json") > quality(accept, "application/x-protobuf");
}

/** Whether the answer to `req` is protobuf JSON (read from `req.headers`: the refusals' path, not the agent path). */
export function isJsonRequest(req: IncomingMessage): boolean {
  return isJsonType(req.headers["content-type"]) || acceptsJsonType(req.headers.accept);
}

/** The quality an Accept header gives one exact media type (0 when it is not listed). */
function quality(accept: string, type: string): number {
  for (const range of accept.split(",")) {
    const [name = "", ...params] = range.split(";");
    if (name.trim().toLowerCase() !== type) continue;
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
    return q === undefined ? 1 : Number(q) || 0;
  }
  return 0;
}
