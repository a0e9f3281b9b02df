import { HTTP_STATUS, type Code } from "../http/errors.ts";
import type { Outcome } from "../http/endpoint.ts";
import { encodeBody, encodeJsonInSlices, type MessageType } from "./codec.ts";
import { JSON_UTF8, PROTOBUF } from "./negotiation.ts";
import { requestIdOf } from "./requestId.ts";
import { yieldToEventLoop, type Envelope, type LongList, type Reply } from "./routeContract.ts";

/** Items of a long list encoded between two yields to the event loop. */
const SLICE = 2000;

/**
 * The answer in one route's message type, encoded whole: a success with `reply`, or a refusal with
 * `code`. `answered`: the code the wire carries when it differs from `code`, which metrics and the
 * request log read (a Conflict answered as the protocol's nearest code).
 */
export function outcome(type: MessageType<unknown>, envelope: Envelope, json: boolean, echo: unknown, logId: string, code: Code, message: string, reply?: Reply, answered: Code = code): Outcome {
  const fields = code === "Accept" ? envelope.ok(echo, reply ?? {}) : envelope.fail(echo, answered, message);
  return {
    status: HTTP_STATUS[answered],
    code,
    protocol: envelope.protocol,
    message: code === "Accept" ? undefined : message,
    requestId: requestIdOf(logId),
    contentType: json ? JSON_UTF8 : PROTOBUF,
    body: encodeBody(type, fields, json),
  };
}

/** A success whose reply has a LONG_LIST: its list encoded in slices, yielding between them. */
export async function longOutcome(type: MessageType<unknown>, envelope: Envelope, json: boolean, echo: unknown, logId: string, reply: Reply, long: LongList): Promise<Outcome> {
  const head = outcome(type, envelope, json, echo, logId, "Accept", reply.message ?? "", reply);
  if (json) return { ...head, body: await encodeJsonInSlices(type, envelope.ok(echo, reply), long.field, long.items, SLICE, yieldToEventLoop) };
  const parts = [head.body];
  for (let i = 0; i < long.items.length; i += SLICE) {
    if (i > 0) await yieldToEventLoop();
    parts.push(encodeBody(type, { [long.field]: long.items.slice(i, i + SLICE) }, false));
  }
  return { ...head, body: Buffer.concat(parts) };
}
