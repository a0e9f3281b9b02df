import type { CacheableReply } from "./answerCache.ts";
import { encodeBody, type MessageType } from "./codec.ts";
import type { Envelope } from "./routeContract.ts";
import { fieldKey, WireType } from "./wire.ts";

interface Tail {
  /** The answer without the echo field. */
  readonly tail: Buffer;
  /** Whether an empty id is written (protobufjs may skip it). */
  readonly emptyWritten: boolean;
}

/**
 * Success answers of cacheable replies (answerCache.ts), encoded once. Such an answer differs from
 * request to request only in the echoed id, which the envelope puts in its `echoField`. So the
 * answer is encoded once without that field (checked: the field must carry the echo, come first
 * and have a one-byte key) and each request's is the id's key, length and bytes in front of it,
 * byte for byte what encoding the whole message gives. Per compiled route (the reply's meaning
 * depends on its message type and envelope).
 */
export class PreEncoded {
  /** Per reply: its tail; null when it is not encodable so. */
  private readonly tails = new WeakMap<CacheableReply, Tail | null>();
  private readonly empty: unknown;
  private readonly probe: unknown;
  /** The echo field's key byte (0 when it needs more than one: then nothing is pre-encoded). */
  private readonly key: number;

  constructor(
    private readonly type: MessageType<unknown>,
    private readonly envelope: Envelope,
  ) {
    this.empty = envelope.echo({});
    this.probe = typeof this.empty === "string" ? "x" : Uint8Array.of(0x78);
    const key = fieldKey(envelope.echoField, WireType.LEN);
    this.key = key < 0x80 ? key : 0;
  }

  private known(cached: CacheableReply): Tail | null {
    let known = this.tails.get(cached);
    if (known === undefined) this.tails.set(cached, (known = this.tailOf(cached)));
    return known;
  }

  /**
   * The answer's body when the echoed id is `wire[start, end)`, the id's bytes as the request
   * carried them (a repeat's: it was read from them, strictly, so encoding it gives those bytes
   * again); undefined when not encoded this way. One copy of the bytes, nothing looked at.
   */
  fromWire(cached: CacheableReply, wire: Uint8Array, start: number, end: number): Buffer | undefined {
    const known = this.known(cached);
    const n = end - start;
    if (known === null || n <= 0 || n > 127) return undefined;
    const tail = known.tail;
    const out = Buffer.allocUnsafe(2 + n + tail.length);
    out[0] = this.key;
    out[1] = n;
    out.set(wire.subarray(start, end), 2);
    out.set(tail, 2 + n);
    return out;
  }

  /** The answer's body, or undefined when this reply or echo is not encoded this way. */
  body(cached: CacheableReply, echo: unknown): Buffer | undefined {
    const known = this.known(cached);
    if (known === null) return undefined;
    const text = typeof echo === "string";
    if (!text && !(echo instanceof Uint8Array)) return undefined;
    const n = (echo as string | Uint8Array).length;
    if (n > 127) return undefined;
    const tail = known.tail;
    if (n === 0 && !known.emptyWritten) return Buffer.from(tail);
    // Bytes are their own wire form.
    if (!text) return this.fromWire(cached, echo as Uint8Array, 0, n);
    const out = Buffer.allocUnsafe(2 + n + tail.length);
    out[0] = this.key;
    out[1] = n;
    // ASCII only (one byte per character, the same bytes in UTF-8); else the whole answer is encoded.
    for (let i = 0; i < n; i++) {
      const c = (echo as string).charCodeAt(i);
      if (c > 0x7f) return undefined;
      out[2 + i] = c;
    }
    out.set(tail, 2 + n);
    return out;
  }

  private tailOf(cached: CacheableReply): Tail | null {
    const key = this.key;
    if (key === 0) return null;
    const full = encodeBody(this.type, this.envelope.ok(this.empty, cached.reply), false);
    const probed = encodeBody(this.type, this.envelope.ok(this.probe, cached.reply), false);
    const emptyWritten = full[0] === key && full[1] === 0;
    const tail = Buffer.from(emptyWritten ? full.subarray(2) : full);
    // The echo field must carry the echo, first, and nothing else may depend on it.
    if (probed.length !== tail.length + 3 || probed[0] !== key || probed[1] !== 1 || probed[2] !== 0x78 || !probed.subarray(3).equals(tail)) return null;
    return { tail, emptyWritten };
  }
}
