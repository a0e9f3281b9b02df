import protobuf from "protobufjs/minimal.js";

/**
 * A minimal protobuf wire reader: walks the fields of a message with their wire types and, for
 * length-delimited ones, where their bytes are. Used to tell protocols apart on a shared path
 * (detect.ts) before any schema is applied, on every request there: a reader is reused, so
 * reading allocates nothing, and no function is called back per field.
 */

const { utf8 } = protobuf.util;

export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** A field's key as the wire carries it (a varint: one byte for fields 1-15). */
export const fieldKey = (field: number, wireType: number) => field * 8 + wireType;

const EMPTY = new Uint8Array(0);
// Place values of the 7-bit groups of a key or length varint (at most 5 groups: 32 bits here).
const PLACE = [1, 1 << 7, 1 << 14, 1 << 21, 2 ** 28];

/** A cursor over the fields of one message: `reset`, then `next()` until it returns false. */
export class FieldReader {
  private bytes: Uint8Array = EMPTY;
  private at = 0;
  private end = 0;
  /** The field just read: its number and wire type. */
  field = 0;
  wireType = 0;
  /** Where the field starts (its key), and where its payload starts and ends (a LEN field's bytes; a varint's or fixed value's bytes). */
  offset = 0;
  start = 0;
  stop = 0;
  /** Set when `next()` stopped at malformed bytes: what is wrong, and where. */
  problem: string | undefined;

  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.at = start;
    this.end = end;
    this.problem = undefined;
    return this;
  }

  private fail(problem: string): false {
    this.problem = problem;
    this.at = this.end;
    return false;
  }

  /** Reads the next field; false at the end of the message, or at a problem (`problem` says which). */
  next(): boolean {
    const b = this.bytes;
    const end = this.end;
    let at = this.at;
    if (at >= end) return false;
    const offset = at;
    // One-byte keys (fields 1-15) and lengths (< 128) are the common case: read without a loop.
    let key = b[at++] as number;
    if (key >= 0x80) {
      key &= 0x7f;
      for (let i = 1; ; i++) {
        if (at >= end || i > 4) return this.fail(`truncated or oversized field key at byte ${offset}`);
        const byte = b[at++] as number;
        key += (byte & 0x7f) * (PLACE[i] as number);
        if (byte < 0x80) break;
      }
      if (key > 0xffffffff) return this.fail(`oversized field key at byte ${offset}`);
    }
    const field = key >>> 3;
    const wireType = key & 7;
    if (field === 0) return this.fail(`field number 0 at byte ${offset}`);
    let start = at;
    if (wireType === WireType.LEN) {
      if (at >= end) return this.fail(`truncated length of field ${field} at byte ${offset}`);
      let length = b[at++] as number;
      if (length >= 0x80) {
        length &= 0x7f;
        for (let i = 1; ; i++) {
          if (at >= end || i > 4) return this.fail(`truncated length of field ${field} at byte ${offset}`);
          const byte = b[at++] as number;
          length += (byte & 0x7f) * (PLACE[i] as number);
          if (byte < 0x80) break;
        }
      }
      start = at;
      at += length;
    } else if (wireType === WireType.VARINT) {
      for (let n = 0; ; n++) {
        if (at >= end || n >= 10) return this.fail(`truncated varint of field ${field} at byte ${offset}`);
        if ((b[at++] as number) < 0x80) break;
      }
    } else if (wireType === WireType.I64) at += 8;
    else if (wireType === WireType.I32) at += 4;
    else return this.fail(`unsupported wire type ${wireType} of field ${field} at byte ${offset}`);
    if (at > end) return this.fail(`field ${field} at byte ${offset} runs past the end of the message`);
    this.at = at;
    this.field = field;
    this.wireType = wireType;
    this.offset = offset;
    this.start = start;
    this.stop = at;
    return true;
  }
}

/** Wire types by field number (-1: not a field of the message), for `fitsMessage`. */
export function wireTable(fields: Readonly<Record<number, number>>): Int8Array {
  const table = new Int8Array(Math.max(0, ...Object.keys(fields).map(Number)) + 1).fill(-1);
  for (const [field, wireType] of Object.entries(fields)) table[Number(field)] = wireType;
  return table;
}

const inner = new FieldReader();

/** Whether `bytes[start, end)` is a non-empty, well-formed message whose every field has the wire type `table` gives it. */
export function fitsMessage(bytes: Uint8Array, start: number, end: number, table: Int8Array): boolean {
  if (start >= end) return false;
  const r = inner.reset(bytes, start, end);
  while (r.next()) if (r.field >= table.length || table[r.field] !== r.wireType) return false;
  return r.problem === undefined;
}

/** Texts up to this length are made by asciiText's builtin path; one array of char codes per length, reused. */
const SHORT_TEXT = 128;
const CODES: number[][] = Array.from({ length: SHORT_TEXT + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * bytes[start, end) as text, for bytes known to be ASCII (every byte < 0x80, where UTF-8 and
 * Latin-1 agree): a flat string, made without Buffer's `toString` for the short texts of the
 * agent path (ids, request ids: two a repeat).
 *
 * Speed trick: `toString` is one JavaScript function shared by every caller in the process, so
 * the copy the optimizing compiler inlines here carries all their type feedback (generic
 * comparisons, property loads that miss) and goes through the encoding table and a wrapper
 * before the native slice. `String.fromCharCode` over a reused array of the bytes is a builtin
 * whose cost does not depend on other callers. Measured with callgrind on the alpha HeartBeat
 * repeat (two texts a request; bench/instructions.ts, bench/callgrindDiff.ts; BENCHMARKS.md,
 * "alpha HeartBeat: instructions per request"): Repeats.recall, everything it calls included,
 * 6,637 instructions a request with `toString("latin1", …)`, 5,923 with this; the undocumented
 * `latin1Slice` of a442149 gave 5,437. Leaving the encoding out (`toString(undefined, …)`, UTF-8)
 * saved only ~60.
 */
export function asciiText(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n > SHORT_TEXT) return Buffer.isBuffer(bytes) ? bytes.toString("latin1", start, end) : Buffer.from(bytes.buffer, bytes.byteOffset + start, n).toString("latin1");
  const codes = CODES[n] as number[];
  for (let i = 0; i < n; i++) codes[i] = bytes[start + i] as number;
  return String.fromCharCode.apply(null, codes);
}

/**
 * A string field as the decoder reads it (strict UTF-8). Ids and request ids are ASCII: those are
 * made by asciiText in one piece (a flat string), not by protobufjs's eight characters at a time,
 * whose concatenation a Map lookup must then flatten.
 */
export function stringField(bytes: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) if ((bytes[i] as number) > 0x7f) return utf8.readStrict(bytes, start, end);
  return asciiText(bytes, start, end);
}
