import type { IncomingMessage } from "node:http";
import type { BodyError } from "./bodyReader.ts";
import type { Code } from "./errors.ts";

/**
 * What HTTP serves for a message route (the agent protocols' routes and the User API): the
 * port between this folder and src/protocols/, which compiles the routes and hands them to
 * createApp. HTTP reads the request line, the headers and the body; everything about the
 * message (its format, its envelope, its shortcuts) is the endpoint's.
 */
export interface Endpoint {
  readonly path: string;
  /** Its own method, and POST (a browser form or `curl -d` cannot send a GET body). */
  readonly methods: readonly string[];
  /** The protocol label of metrics and logs. */
  readonly protocol: string;
  /** The largest request body read for it (413 beyond it). */
  readonly bodyLimit: number;
  /**
   * The answer to a request whose body was read; `contentType` and `accept` are the request's
   * headers of those names. Synchronous when the route's handler is (every agent handler but a
   * held v2 heartbeat): no Promise per request. Never throws, never rejects.
   */
  answer(req: IncomingMessage, body: Buffer, contentType: string | undefined, accept: string | undefined): Outcome | Promise<Outcome>;
  /** An answer in the route's own message type before (or instead of) its handler: 401, timeout, 413. */
  refuse(req: IncomingMessage, code: Code, message: string): Outcome;
}

/**
 * An endpoint's answer, independent of koa: what the response carries (status, headers, body)
 * and what the request log and metrics read (code, message, protocol).
 */
export interface Outcome {
  readonly status: number;
  readonly code: Code;
  readonly protocol: string;
  /** The answer's message when it is not a success (the request log prints it). */
  readonly message: string | undefined;
  /** x-log-requestid. */
  readonly requestId: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** The answer to a body that could not be read (bodyReader.ts): 413 when too large, else 400. */
export function bodyRefusal(endpoint: Endpoint, req: IncomingMessage, error: BodyError): Outcome {
  if (error.tooLarge) return { ...endpoint.refuse(req, "BadRequest", `Request body is larger than the limit of ${endpoint.bodyLimit} bytes.`), status: 413 };
  return endpoint.refuse(req, "BadRequest", `Could not read the request body: ${error.message}`);
}
