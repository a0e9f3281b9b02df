import type { IncomingMessage } from "node:http";
import { DomainError } from "../domain/errors.ts";
import type { Endpoint, Outcome } from "../http/endpoint.ts";
import type { Code } from "../http/errors.ts";
import { CacheableReply } from "./answerCache.ts";
import { decodeBody, mergeQuery, type DecodeError } from "./codec.ts";
import { longOutcome, outcome } from "./encodeAnswer.ts";
import { acceptsJsonType, isJsonRequest, isJsonType, PROTOBUF } from "./negotiation.ts";
import { PreEncoded } from "./preEncoded.ts";
import { headerId, requestIdOf } from "./requestId.ts";
import { LONG_LIST, type LongList, type Replied, type Reply, type RouteOptions, type RouteSpec } from "./routeContract.ts";

/**
 * A compiled route: the Endpoint HTTP serves, and its two halves, which a shared path
 * (compileShared.ts) calls on their own. `jsonBody` and `acceptsJson` are the request's
 * negotiation (negotiation.ts), read once by `answer`.
 */
export interface CompiledRoute extends Endpoint {
  /** The answer when the request repeats one the route remembers (answerCache.ts); undefined otherwise, having done nothing. */
  answerRepeat(req: IncomingMessage, body: Buffer, jsonBody: boolean, acceptsJson: boolean): Outcome | Promise<Outcome> | undefined;
  /** The answer to a request answerRepeat did not answer: decoded and handled. */
  answerDecoding(req: IncomingMessage, body: Buffer, jsonBody: boolean, acceptsJson: boolean): Outcome | Promise<Outcome>;
}

/**
 * Decode → handle → encode, with errors mapped through the one table and the protocol's envelope;
 * every answer carries the route's message type and `x-log-requestid`. Two shortcuts
 * (answerCache.ts): a remembered repeat is answered without decoding, and a cacheable reply's
 * binary answer is pre-encoded. No closure is made per request.
 */
export function compileRoute<Req>(spec: RouteSpec<Req>, options: RouteOptions): CompiledRoute {
  const { response, request: requestType, path, envelope } = spec;
  const what = requestType.getTypeUrl("").slice(1);
  const repeats = spec.repeats;
  const catchUp = options.catchUp;
  // Read once: these closures are made by every compileRoute call, and share their type feedback,
  // so a property read per request here sees every route's envelope (a megamorphic load).
  const protocol = envelope.protocol;
  const preEncoded = new PreEncoded(response, envelope);

  const answer = (req: IncomingMessage, body: Buffer, contentType: string | undefined, accept: string | undefined): Outcome | Promise<Outcome> => {
    const jsonBody = isJsonType(contentType);
    const acceptsJson = acceptsJsonType(accept);
    return answerRepeat(req, body, jsonBody, acceptsJson) ?? answerDecoding(req, body, jsonBody, acceptsJson);
  };
  const answerDecoding = (req: IncomingMessage, body: Buffer, jsonBody: boolean, acceptsJson: boolean): Outcome | Promise<Outcome> => {
    const json = jsonBody || acceptsJson;
    let request: Req;
    try {
      request = decodeBody(requestType, body, jsonBody);
    } catch (e) {
      return outcome(response, envelope, json, "", "", "BadRequest", `The request body is not a valid ${jsonBody ? "JSON" : "protobuf"} ${what}: ${(e as DecodeError).message}`);
    }
    const search = spec.query ? querySearch(req.url) : undefined;
    if (search) {
      try {
        request = mergeQuery(requestType, request, search);
      } catch (e) {
        return outcome(response, envelope, json, "", "", "BadRequest", `The query string does not fit ${what}: ${(e as DecodeError).message}`);
      }
    }
    const echo = envelope.echo(request);
    return handled(req, body, jsonBody, json, request, echo, headerId(echo), catchUp);
  };
  /** The handler's answer; an agent unknown here is asked for once more after `again` (RouteOptions.catchUp). */
  const handled = (req: IncomingMessage, body: Buffer, jsonBody: boolean, json: boolean, request: Req, echo: unknown, logId: string, again: (() => Promise<void>) | undefined): Outcome | Promise<Outcome> => {
    let out: Replied | Promise<Replied>;
    try {
      out = spec.handle(request, req);
    } catch (e) {
      if (again !== undefined && e instanceof DomainError && e.code === "AgentNotExist") return again().then(() => handled(req, body, jsonBody, json, request, echo, logId, undefined));
      return failure(e, json, echo, logId);
    }
    // Agent handlers are synchronous: no Promise, no microtask for them.
    if (out instanceof Promise) {
      return out.then((reply) => success(reply, json, echo, logId), (e: unknown) => {
        if (again !== undefined && e instanceof DomainError && e.code === "AgentNotExist") return again().then(() => handled(req, body, jsonBody, json, request, echo, logId, undefined));
        return failure(e, json, echo, logId);
      });
    }
    if (repeats !== undefined && !jsonBody && out instanceof CacheableReply) {
      try {
        repeats.remember(body, request, out);
      } catch (e) {
        return failure(e, json, echo, logId);
      }
    }
    return success(out, json, echo, logId);
  };
  const answerRepeat = (req: IncomingMessage, body: Buffer, jsonBody: boolean, acceptsJson: boolean): Outcome | Promise<Outcome> | undefined => {
    if (repeats === undefined || jsonBody) return undefined;
    const again = repeats.recall(body, req);
    if (again === undefined) return undefined;
    const wire = acceptsJson ? undefined : preEncoded.fromWire(again, body, repeats.echoStart, repeats.echoEnd);
    if (wire !== undefined) return accepted(wire, repeats.logId);
    return success(again, acceptsJson, repeats.echo, repeats.logId);
  };
  /** A success whose body is pre-encoded. */
  const accepted = (body: Buffer, logId: string): Outcome => ({ status: 200, code: "Accept", protocol, message: undefined, requestId: requestIdOf(logId), contentType: PROTOBUF, body });
  const success = (out: Replied, json: boolean, echo: unknown, logId: string): Outcome | Promise<Outcome> => {
    try {
      let reply: Reply;
      if (out instanceof CacheableReply) {
        if (!json) {
          const body = preEncoded.body(out, echo);
          if (body !== undefined) return accepted(body, logId);
        }
        reply = out.reply;
      } else reply = out;
      const long = (reply as { [LONG_LIST]?: LongList })[LONG_LIST];
      if (long === undefined) return outcome(response, envelope, json, echo, logId, "Accept", reply.message ?? "", reply);
      return longOutcome(response, envelope, json, echo, logId, reply, long).catch((e: unknown) => failure(e, json, echo, logId));
    } catch (e) {
      return failure(e, json, echo, logId);
    }
  };
  const failure = (e: unknown, json: boolean, echo: unknown, logId: string): Outcome => {
    // An InternalServerError a DomainError carries (git's stderr, a path) is logged, not shown.
    if (e instanceof DomainError && e.code !== "InternalServerError") {
      // Protocols know no Conflict: the reference server's code where it has one, else ServerBusy.
      return outcome(response, envelope, json, echo, logId, e.code, e.message, undefined, e.code === "Conflict" ? (e.protocolCode ?? "ServerBusy") : e.code);
    }
    options.onError(e, path, logId);
    return outcome(response, envelope, json, echo, logId, "InternalServerError", `Internal error while handling ${path}; the server log has the details (request id ${logId}).`);
  };
  const refuse = (req: IncomingMessage, code: Code, message: string) => outcome(response, envelope, isJsonRequest(req), "", "", code, message);
  // Every route also answers POST: a browser form or `curl -d` cannot send a GET body, and some
  // clients cannot send PUT or DELETE at all.
  return { path, methods: spec.method === "POST" ? ["POST"] : [spec.method, "POST"], protocol, bodyLimit: options.bodyLimit, answer, answerRepeat, answerDecoding, refuse };
}

/** The query string of a request URL, without its "?"; undefined when there is none. */
function querySearch(url: string | undefined): string | undefined {
  const at = url?.indexOf("?") ?? -1;
  return at >= 0 && at < (url as string).length - 1 ? (url as string).slice(at + 1) : undefined;
}
