import type { IncomingMessage } from "node:http";
import protobuf from "protobufjs/minimal.js";
import type { AgentRecord } from "../domain/agent.ts";
import type { AgentRegistry } from "../domain/registry.ts";
import type { Applied } from "../domain/repoState.ts";
import { keepMemo, memoOf, type AnswerMemo, type CacheableReply, type RepeatCache } from "./answerCache.ts";
import type { SnapshotSource } from "./protocol.ts";
import { headerId, MAX_HEADER_ID, trimmedByHttp } from "./requestId.ts";
import { REMEMBERED_BYTES, Signatures } from "./repeatSignatures.ts";
import { asciiText, FieldReader, WireType } from "./wire.ts";

const { utf8 } = protobuf.util;
const EMPTY = new Uint8Array(0);
const ACCEPT_ANY = () => true;

/** What one route says about its requests (see Repeats). */
export interface RepeatSpec<Req> {
  readonly registry: AgentRegistry;
  readonly store: SnapshotSource;
  /** Field 1, the request's id, is a string (alpha, v1) or bytes (v2). */
  readonly echo: "string" | "bytes";
  /** Field 2 is the v2 sequence number, which moves with every heartbeat. */
  readonly sequence: boolean;
  /** The field of the agent's id and how it is read: a string (alpha, v1 field 2) or v2 bytes read as text (field 4). */
  readonly idField: number;
  readonly idText: (bytes: Uint8Array, start: number, end: number) => string;
  /** What handling such a request records (REPEATED.HEARTBEAT, REPEATED.REPORTS). */
  readonly parts: number;
  /** Whether the reply depends on the configs applied to the agent (then a new snapshot ends the memo). */
  readonly applied: boolean;
  /** The agent id of a decoded request. */
  readonly idOf: (request: Req) => string;
  /** Whether this cacheable reply may be given again to the same request, as long as nothing it was made from changes. */
  readonly worth: (reply: CacheableReply) => boolean;
  /** A last condition on the repeat itself (v2: the sequence number follows the last one; no long poll asked). */
  readonly accept?: (record: AgentRecord, sequence: number, req: IncomingMessage) => boolean;
}

/** One agent's last request of a route and what it was answered from (answerCache.ts). */
interface Memo extends AnswerMemo {
  /**
   * The request's bytes after the fields that change every time (its id; v2's sequence number),
   * without the agent id field (the record is the agent's): the bytes before that field, then those
   * after it. Shared by every agent whose bytes are the same (Signatures).
   */
  readonly signature: Buffer;
  /** How many of the signature's bytes come before the agent id field. */
  readonly head: number;
  readonly heartbeat: AgentRecord["heartbeat"];
  readonly pipelines: AgentRecord["pipelines"];
  readonly instances: AgentRecord["instances"];
  readonly applied: Applied | undefined;
  readonly reply: CacheableReply;
  readonly next: Memo | undefined;
}

/**
 * Agents repeat themselves: every few seconds the same heartbeat, the same poll, the same report,
 * with only a new request id (and, in v2, the next sequence number). Decoding such a request is the
 * largest part of its cost, and everything it would lead to is already known: the registry would
 * find nothing changed, and the reply would be the one given last time. So each route remembers, per
 * agent, the bytes of its last successful request (after those fields) with the record and
 * snapshot state it was answered from and its cacheable reply. A request whose bytes are the same,
 * for an agent whose record and applied configs are the very same objects as then, is answered that
 * reply with its own id, and the registry is told that the agent repeated itself (only the times
 * move): exactly what decoding and handling it would have done. Anything else (another byte, a
 * changed record, a new snapshot, an unusual field order, a decoding problem) is decoded and
 * handled as before. Memos are kept on the records through answerCache.ts's port (one per route
 * the agent uses, chained), found with the record's one lookup; an agent forgotten by the
 * registry takes its memos with it.
 */
export class Repeats<Req> implements RepeatCache<Req> {
  private readonly reader = new FieldReader();
  echo: unknown = undefined;
  logId = "";
  // What layout() read: field 1's bytes (-1: absent), the sequence number, where the signature starts.
  echoStart = -1;
  echoEnd = -1;
  private seq = 0;
  private sigStart = 0;
  // The agent id field, key to end of value.
  private idFrom = 0;
  private idTo = 0;
  private readonly signatures = new Signatures();
  /**
   * The spec, copied into one object shape: the specs of the routes are object literals of
   * different shapes, and reading them in this code shared by every route made its loads
   * polymorphic (seen in perf as LoadIC calls on the agent path).
   */
  private readonly spec: Required<RepeatSpec<Req>>;

  constructor(spec: RepeatSpec<Req>) {
    const { registry, store, echo, sequence, idField, idText, parts, applied, idOf, worth } = spec;
    this.spec = { registry, store, echo, sequence, idField, idText, parts, applied, idOf, worth, accept: spec.accept ?? ACCEPT_ANY };
  }

  /**
   * Reads the leading fields (field 1; v2's field 2) and stops at the id field (the reader's
   * start/stop are its bytes). False for any other layout: an empty body, a field that changes
   * every time found after the signature started, no id.
   */
  private layout(body: Buffer): boolean {
    const r = this.reader.reset(body, 0, body.length);
    const spec = this.spec;
    this.echoStart = this.echoEnd = -1;
    this.seq = 0;
    this.sigStart = 0;
    if (!r.next()) return false;
    if (r.field === 1) {
      if (r.wireType !== WireType.LEN) return false;
      this.echoStart = r.start;
      this.echoEnd = r.stop;
      this.sigStart = r.stop;
      if (!r.next()) return false;
    }
    if (spec.sequence && r.field === 2) {
      // A varint of up to 7 bytes is exact as a number (what int64() of the decoded Long gives).
      if (r.wireType !== WireType.VARINT || r.stop - r.start > 7) return false;
      let n = 0;
      for (let i = r.stop - 1; i >= r.start; i--) n = n * 128 + ((body[i] as number) & 0x7f);
      this.seq = n;
      this.sigStart = r.stop;
      if (!r.next()) return false;
    }
    for (;;) {
      if (r.field === spec.idField) {
        this.idFrom = r.offset;
        this.idTo = r.stop;
        return r.wireType === WireType.LEN && r.stop > r.start;
      }
      if (r.field === 1 || (spec.sequence && r.field === 2) || !r.next()) return false;
    }
  }

  recall(body: Buffer, req: IncomingMessage): CacheableReply | undefined {
    try {
      if (!this.layout(body)) return undefined;
      const spec = this.spec;
      const r = this.reader;
      const id = spec.idText(body, r.start, r.stop);
      const record = spec.registry.get(id);
      if (record === undefined) return undefined;
      let memo = memoOf(record) as Memo | undefined;
      while (memo !== undefined && memo.owner !== this) memo = memo.next;
      if (memo === undefined || memo.heartbeat !== record.heartbeat || memo.pipelines !== record.pipelines || memo.instances !== record.instances) return undefined;
      if (spec.applied) {
        const state = spec.store.state;
        if (state.commit === "" || state.applied(record.tagsKey, (record.heartbeat as NonNullable<AgentRecord["heartbeat"]>).tags, record.heartbeat?.attributes, id) !== memo.applied) return undefined;
      }
      if (!spec.accept(record, this.seq, req)) return undefined;
      // Compared in place (no string of the body made per request).
      const sig = memo.signature;
      const head = memo.head;
      if (this.idFrom - this.sigStart !== head || body.length - this.idTo !== sig.length - head) return undefined;
      if (head > 0 && body.compare(sig, 0, head, this.sigStart, this.idFrom) !== 0) return undefined;
      if (body.compare(sig, head, sig.length, this.idTo) !== 0) return undefined;
      // As decoding reads it (strict UTF-8 for strings: a bad id throws, and the request is decoded and refused).
      this.echoOf(body, this.echoStart, this.echoEnd);
      spec.registry.repeated(id, spec.parts, spec.sequence ? this.seq : undefined);
      return memo.reply;
    } catch {
      return undefined;
    }
  }

  /**
   * The request id as decoding reads it, and as x-log-requestid carries it (headerId's rule: the
   * id itself when it is at most MAX_HEADER_ID characters of header text, else "": a UUID), from
   * one pass over its bytes.
   */
  private echoOf(body: Buffer, start: number, end: number): void {
    const text = this.spec.echo === "string";
    if (start < 0) {
      this.echo = text ? "" : EMPTY;
      this.logId = "";
      return;
    }
    let ascii = true;
    let header = end - start <= MAX_HEADER_ID && end > start && !trimmedByHttp(body[start] as number, body[end - 1] as number);
    for (let i = start; i < end; i++) {
      const c = body[i] as number;
      if (c > 0x7f) ascii = false;
      else if ((c < 0x20 && c !== 0x09) || c === 0x7f) header = false;
    }
    if (text) {
      // Strict UTF-8, as decoding reads strings: a bad id throws, and the request is decoded and refused.
      const echo = ascii ? asciiText(body, start, end) : utf8.readStrict(body, start, end);
      this.echo = echo;
      this.logId = !ascii ? headerId(echo) : header ? echo : "";
    } else {
      this.echo = body.subarray(start, end);
      // Bytes are carried as Latin-1 text (headerId): every byte but the control characters is header text.
      this.logId = !ascii ? headerId(this.echo) : header ? asciiText(body, start, end) : "";
    }
  }

  remember(body: Buffer, request: Req, reply: CacheableReply): void {
    const spec = this.spec;
    // A large request is decoded each time rather than kept (REMEMBERED_BYTES).
    if (body.length > REMEMBERED_BYTES || !spec.worth(reply) || !this.layout(body)) return;
    const r = this.reader;
    // The id read from the bytes must be the decoded one: the id field once, no later copy of the
    // fields that change every time (decoding takes a repeated field's last value).
    if (spec.idText(body, r.start, r.stop) !== spec.idOf(request)) return;
    while (r.next()) if (r.field === spec.idField || r.field === 1 || (spec.sequence && r.field === 2)) return;
    if (r.problem !== undefined) return;
    const record = spec.registry.get(spec.idOf(request));
    if (record?.heartbeat === undefined) return;
    let applied: Applied | undefined;
    if (spec.applied) {
      const state = spec.store.state;
      if (state.commit === "") return;
      applied = state.applied(record.tagsKey, record.heartbeat.tags, record.heartbeat.attributes, record.agentId);
    }
    const head = this.idFrom - this.sigStart;
    const signature = this.signatures.of(body, this.sigStart, this.idFrom, this.idTo);
    if (signature === undefined) return;
    const memo: Memo = { signature, head, heartbeat: record.heartbeat, pipelines: record.pipelines, instances: record.instances, applied, reply, owner: this, next: without(memoOf(record) as Memo | undefined, this) };
    keepMemo(record, memo);
  }
}

/** The memo chain without `owner`'s memo (a chain holds one memo per route the agent uses). */
function without(memo: Memo | undefined, owner: object): Memo | undefined {
  if (memo === undefined) return undefined;
  const next = without(memo.next, owner);
  return memo.owner === owner ? next : next === memo.next ? memo : { ...memo, next };
}
