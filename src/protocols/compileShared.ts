import type { IncomingMessage } from "node:http";
import type { Outcome } from "../http/endpoint.ts";
import type { CompiledRoute } from "./compileRoute.ts";
import { acceptsJsonType, isJsonType } from "./negotiation.ts";

/**
 * One path that two protocols share (alpha and v1 `/Agent/HeartBeat`, v1 and v2
 * `/Agent/FetchPipelineConfig`): the body is read once and `pick` decides from the wire which
 * protocol's route answers. Refusals before that (401, timeout, 413) are in the first route's type.
 */
export function compileShared(routes: readonly CompiledRoute[], pick: (body: Buffer, json: boolean) => number | string): CompiledRoute {
  const first = routes[0] as CompiledRoute;
  // The route whose memory answered last is asked first: a fleet's requests on one path come in
  // runs of one protocol, and asking another route first costs a layout read and a lookup.
  let lastHit = 0;
  const answerRepeat = (req: IncomingMessage, body: Buffer, jsonBody: boolean, acceptsJson: boolean): Outcome | Promise<Outcome> | undefined => {
    const again = (routes[lastHit] as CompiledRoute).answerRepeat(req, body, jsonBody, acceptsJson);
    if (again !== undefined) return again;
    for (let i = 0; i < routes.length; i++) {
      if (i === lastHit) continue;
      const other = (routes[i] as CompiledRoute).answerRepeat(req, body, jsonBody, acceptsJson);
      if (other !== undefined) {
        lastHit = i;
        return other;
      }
    }
    return undefined;
  };
  const answer = (req: IncomingMessage, body: Buffer, contentType: string | undefined, accept: string | undefined): Outcome | Promise<Outcome> => {
    // A repeat is the bytes of a request this path answered before but for the request id and
    // the agent id (strings in every protocol sharing a path, which detection reads only as
    // strings): detection would choose the same route again, so the routes' memories are asked
    // first, and only a request none remembers is read to choose.
    const jsonBody = isJsonType(contentType);
    const acceptsJson = acceptsJsonType(accept);
    return answerRepeat(req, body, jsonBody, acceptsJson) ?? answerDecoding(req, body, jsonBody, acceptsJson);
  };
  const answerDecoding = (req: IncomingMessage, body: Buffer, jsonBody: boolean, acceptsJson: boolean): Outcome | Promise<Outcome> => {
    const chosen = pick(body, jsonBody);
    if (typeof chosen === "string") return first.refuse(req, "BadRequest", chosen);
    return (routes[chosen] ?? first).answerDecoding(req, body, jsonBody, acceptsJson);
  };
  return { path: first.path, methods: first.methods, protocol: routes.map((r) => r.protocol).join("|"), bodyLimit: first.bodyLimit, answer, answerRepeat, answerDecoding, refuse: first.refuse };
}
