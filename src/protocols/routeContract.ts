import type { IncomingMessage } from "node:http";
import type { Code } from "../http/errors.ts";
import type { CacheableReply, RepeatCache } from "./answerCache.ts";
import type { MessageType } from "./codec.ts";

/** What a handler returns: the success message's payload fields (and, for protocols that have one, its `message`). */
export type Reply = { readonly message?: string } & Record<string, unknown>;

/** A handler's result: a reply made for this request, or one declared cacheable (answerCache.ts). */
export type Replied = Reply | CacheableReply;

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/**
 * How one protocol wraps answers: where the request id is echoed, how success and each code are
 * said. The route compiler knows nothing else about a protocol.
 */
export interface Envelope {
  /** The label of metrics and logs: alpha, v1, v2, user. */
  readonly protocol: string;
  /**
   * The field number of the echoed request id in every answer message of the protocol (1 in
   * alpha, v1 and v2): a cacheable answer is encoded once without it (preEncoded.ts).
   */
  readonly echoField: number;
  /** The request's id as the answer echoes it (a string or bytes; "" when absent). */
  echo(request: unknown): unknown;
  /** The fields of a success answer. */
  ok(echo: unknown, reply: Reply): Record<string, unknown>;
  /** The fields of a refusal with this code; its HTTP status comes from the one table. */
  fail(echo: unknown, code: Code, message: string): Record<string, unknown>;
}

export interface RouteSpec<Req> {
  readonly method: Method;
  readonly path: string;
  readonly request: MessageType<Req>;
  readonly response: MessageType<unknown>;
  readonly envelope: Envelope;
  /** `req` is there for what is not in the body (headers); most handlers ignore it. */
  readonly handle: (request: Req, req: IncomingMessage) => Replied | Promise<Replied>;
  /**
   * Whether the request's fields may also come from the query string (`?config_name=x` or
   * `?configName=x`), for people with curl and browsers. The User API's routes say so; agents'
   * routes never do.
   */
  readonly query?: boolean;
  /** Requests that repeat an agent's last one, answered without decoding them (answerCache.ts). */
  readonly repeats?: RepeatCache<Req>;
}

/**
 * A list of routes of different request types, as a protocol hands them to the compiler. Each
 * was checked against its own request type when it was made (`messageRoute`); the compiler is
 * generic and hands a handler only what its own `request` type decoded.
 */
export type AnyRoute = RouteSpec<never>;

/**
 * A route, its handler (and repeat cache) type-checked against its request type: `request`
 * fixes `Req`, so a handler taking another message is a compile error.
 */
export function messageRoute<Req>(spec: RouteSpec<Req>): AnyRoute {
  // The one place the request type is forgotten: the list holds routes of several types.
  return spec as unknown as AnyRoute;
}

/** An agent route of one protocol: POST, in the protocol's envelope. */
export function agentRoute<Req>(envelope: Envelope, spec: Omit<RouteSpec<Req>, "method" | "envelope" | "query">): AnyRoute {
  return messageRoute<Req>({ ...spec, method: "POST", envelope });
}

export interface RouteOptions {
  readonly bodyLimit: number;
  /** An unexpected error of a handler (answered InternalServerError). `requestId` is the x-log-requestid. */
  readonly onError: (error: unknown, route: string, requestId: string) => void;
  /**
   * Set where the registry is a replica that other processes' changes reach later (a worker of
   * --workers): a request for an agent it does not know yet waits for this (the changes sent
   * before it arrived are in) and is handled once more, instead of answering AgentNotExist.
   */
  readonly catchUp?: (() => Promise<void>) | undefined;
}

/**
 * A reply whose one repeated field is too long to encode in one go without stalling the event
 * loop (ListAgents of 200,000 agents): the protobuf answer is encoded in slices, yielding between
 * them. Concatenated protobuf messages are one message whose repeated fields are appended, so the
 * bytes are what one encode would give.
 */
export const LONG_LIST = Symbol("longList");
export interface LongList {
  readonly field: string;
  readonly items: readonly unknown[];
}
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
