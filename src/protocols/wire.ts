/**
 * A minimal protobuf wire reader: walks the top-level fields of a message with their wire types
 * and, for length-delimited ones, where their bytes are. Used only to tell protocols apart on a
 * shared path (detect.ts), before any schema is applied; it allocates nothing per field.
 */

export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** Called per field; `start`/`end` bound a LEN field's payload. Returning false stops the walk. */
export type FieldVisitor = (field: number, wireType: number, start: number, end: number) => boolean | void;

/**
 * Walks `bytes[start, end)`. Returns undefined when the bytes are a well-formed protobuf
 * message (every field read to its end), else a description of the first problem.
 */
export function scanFields(bytes: Uint8Array, start: number, end: number, visit: FieldVisitor): string | undefined {
  let at = start;
  while (at < end) {
    const offset = at;
    // Field keys and lengths here are small: a varint of up to 5 bytes (32 bits) is read exactly.
    let key = 0;
    let shift = 0;
    let b: number;
    do {
      if (at >= end || shift > 28) return `truncated or oversized field key at byte ${offset}`;
      b = bytes[at++] as number;
      key += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) return `field number 0 at byte ${offset}`;
    let payloadStart = at;
    switch (wireType) {
      case WireType.VARINT: {
        let n = 0;
        do {
          if (at >= end || n++ >= 10) return `truncated varint of field ${field} at byte ${offset}`;
          b = bytes[at++] as number;
        } while (b & 0x80);
        payloadStart = at;
        break;
      }
      case WireType.I64:
        at += 8;
        break;
      case WireType.I32:
        at += 4;
        break;
      case WireType.LEN: {
        let length = 0;
        shift = 0;
        do {
          if (at >= end || shift > 28) return `truncated length of field ${field} at byte ${offset}`;
          b = bytes[at++] as number;
          length += (b & 0x7f) * 2 ** shift;
          shift += 7;
        } while (b & 0x80);
        payloadStart = at;
        at += length;
        break;
      }
      default:
        return `unsupported wire type ${wireType} of field ${field} at byte ${offset}`;
    }
    if (at > end) return `field ${field} at byte ${offset} runs past the end of the message`;
    if (visit(field, wireType, payloadStart, at) === false) return undefined;
  }
  return undefined;
}

/**
 * Whether `bytes[start, end)` is a non-empty message whose every field is one of `allowed`
 * (field number → wire type). `allowed` is indexed by field number.
 */
export function fitsMessage(bytes: Uint8Array, start: number, end: number, allowed: Readonly<Record<number, number>>): boolean {
  if (start >= end) return false;
  let fits = true;
  const problem = scanFields(bytes, start, end, (field, wireType) => {
    if (allowed[field] !== wireType) return (fits = false);
    return true;
  });
  return fits && problem === undefined;
}
