import type { IncomingMessage } from "node:http";
import type { AgentRecord } from "../domain/agent.ts";
import type { Reply } from "./routeContract.ts";

/**
 * The answer-caching contract of the agent path: what a handler may declare, what is cached,
 * keyed by what, and what ends it. Two caches, both in memory, both behind this contract:
 *
 * 1. **Pre-encoded answers** (preEncoded.ts). A handler that returns `cacheable(reply)` promises
 *    that this object's fields never change. Its binary answer is then encoded once per compiled
 *    route, keyed by the CacheableReply object (a WeakMap: it lives as long as the handler keeps
 *    the object — a constant, or a reply cached with the snapshot it was made from, such as the
 *    all-SAME GetConfigList of one applied list), and each request's answer is its own request id
 *    in front of those bytes. Nothing invalidates it: a changed answer is a new object. JSON
 *    answers, and replies not declared so, are encoded per request.
 *
 * 2. **Repeats** (repeats.ts). Per agent and route, the bytes of the agent's last request that was
 *    answered with a cacheable reply the route finds worth remembering, with what it was answered
 *    from: the record's heartbeat, config reports and (for routes whose answer depends on them)
 *    the configs the served snapshot applies to the agent. Keyed by the agent's record (found by
 *    the agent id read from the bytes) and the route. A request whose bytes are the same but for
 *    the request id (and v2's sequence number) gets that reply again without being decoded; the
 *    registry is told the agent repeated itself (AgentRegistry.repeated). It no longer answers
 *    when any of those changes: another byte, a new heartbeat or report object on the record, a
 *    new snapshot whose applied list differs; it goes with the record (expiry), and the agent's
 *    next remembered request of the route replaces it.
 *
 * Declaring a reply cacheable is a promise about the object, never inferred from it (freezing a
 * reply for safety changes nothing here).
 */

/** A reply declared unchanging: made by `cacheable`, recognised by its class (one check per answer). */
export class CacheableReply {
  /** @param reply frozen by `cacheable`: the promise is kept by construction. */
  constructor(readonly reply: Reply) {}
}

/** Declares `reply` cacheable (see above): the same object is given to every request it answers. */
export function cacheable(reply: Reply): CacheableReply {
  return new CacheableReply(Object.freeze(reply));
}

/**
 * What a route remembers of the requests it answered, to answer a repeat without decoding it
 * (repeats.ts). `recall` runs before decoding (binary bodies only); `remember` after a success with
 * a cacheable reply.
 */
export interface RepeatCache<Req> {
  /**
   * The reply to `body` when it repeats a remembered request (having recorded what handling it
   * would); its echoed id is then in `echo`, and `logId` is `headerId(echo)` ("" when a UUID is
   * to be made).
   */
  recall(body: Buffer, req: IncomingMessage): CacheableReply | undefined;
  readonly echo: unknown;
  readonly logId: string;
  /** Where the echoed id's bytes are in the body recalled last (its value; -1 when absent). */
  readonly echoStart: number;
  readonly echoEnd: number;
  remember(body: Buffer, request: Req, reply: CacheableReply): void;
}

/** One route's memo on a record; memos of the routes an agent uses are chained. */
export interface AnswerMemo {
  /** The route (its RepeatCache) whose memo this is. */
  readonly owner: object;
  readonly next: AnswerMemo | undefined;
}

/**
 * The one port between the repeat cache and the registry's records. The memo is kept on the
 * record (AgentRecord.repeatMemo), not in a table beside it: a repeat then costs one lookup of
 * the agent, whose entry is cold in the CPU's caches at tens of thousands of agents, and an agent
 * forgotten by the registry takes its memos with it. The registry makes the slot (undefined) with
 * the record and never reads it; only these two functions read and write it.
 */
export function memoOf(record: AgentRecord): AnswerMemo | undefined {
  return record.repeatMemo as AnswerMemo | undefined;
}

export function keepMemo(record: AgentRecord, memo: AnswerMemo): void {
  (record as { repeatMemo?: unknown }).repeatMemo = memo;
}
