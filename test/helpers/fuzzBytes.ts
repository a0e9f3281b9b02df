/**
 * Random inputs for the fuzz test (test/fuzz.test.ts): picks from a seeded PRNG (seeded.ts's
 * prng), byte-level mutations of valid protobuf messages, protobuf fields of any number and wire
 * type, lengths that lie, deep nesting in protobuf and JSON, invalid UTF-8.
 */

export type Rng = () => number;

export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)] as T;
export const chance = (rng: Rng, p: number): boolean => rng() < p;

export function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(rng, 256);
  return b;
}

const varint = (n: bigint): Buffer => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
};

const key = (field: number, wireType: number) => varint((BigInt(field) << 3n) | BigInt(wireType));
const lengthDelimited = (field: number, payload: Buffer) => Buffer.concat([key(field, 2), varint(BigInt(payload.length)), payload]);

/** One protobuf field of a random number and wire type (0-7: 3, 4, 6, 7 are invalid or obsolete), sometimes with a length that lies. */
export function randomField(rng: Rng): Buffer {
  const field = pick(rng, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 100, 536870911, int(rng, 2 ** 29)]);
  const wireType = int(rng, 8);
  const k = key(Math.max(field, 1), wireType);
  switch (wireType) {
    case 0: return Buffer.concat([k, varint(BigInt(int(rng, 2 ** 31)) * (chance(rng, 0.3) ? 2n ** 33n : 1n))]);
    case 1: return Buffer.concat([k, randomBytes(rng, 8)]);
    case 2: {
      const n = int(rng, 40);
      // A length beyond the body (up to 2^64-1) or exactly right.
      const declared = chance(rng, 0.3) ? pick(rng, [BigInt(n + 1), 2n ** 31n, 2n ** 32n + 5n, 2n ** 63n, 2n ** 64n - 1n]) : BigInt(n);
      return Buffer.concat([k, varint(declared), randomBytes(rng, n)]);
    }
    case 5: return Buffer.concat([k, randomBytes(rng, 4)]);
    default: return Buffer.concat([k, randomBytes(rng, int(rng, 6))]);
  }
}

/** A valid message broken the ways a fuzzer breaks bytes: flips, inserts, deletes, truncation, lying lengths, foreign fields. */
export function mutateBytes(rng: Rng, valid: Uint8Array): Buffer {
  let b = Buffer.from(valid);
  const rounds = 1 + int(rng, 4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : int(rng, b.length);
    switch (int(rng, 9)) {
      case 0: if (b.length) b[at] = (b[at] as number) ^ (1 << int(rng, 8)); break;
      case 1: if (b.length) b[at] = int(rng, 256); break;
      case 2: b = Buffer.concat([b.subarray(0, at), randomBytes(rng, 1 + int(rng, 8)), b.subarray(at)]); break;
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(rng, 8)))]); break;
      case 4: b = b.subarray(0, at); break;
      case 5: b = Buffer.concat([b, randomField(rng)]); break;
      case 6: b = Buffer.concat([randomField(rng), b]); break;
      // A length byte set to its largest one-byte value, or a 10-byte varint of 2^64-1.
      case 7: if (b.length) b[at] = 0x7f; else b = Buffer.from([0x0a, 0x7f]); break;
      default: b = Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), b.subarray(at)]);
    }
  }
  return b;
}

/**
 * A message nested `depth` times through message-typed fields, as protobuf bytes: deep recursion
 * for a decoder that recurses (OpAMP's ComponentHealth map). `prefix(n)` is what one level puts
 * before an inner message of n bytes; the levels are joined once, in linear time.
 */
export function deepProtobuf(depth: number, prefix: (innerLength: number) => Buffer, leaf: Buffer = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [leaf];
  let length = leaf.length;
  for (let i = 0; i < depth; i++) {
    const p = prefix(length);
    parts.push(p);
    length += p.length;
  }
  return Buffer.concat(parts.reverse());
}

/** The key and length of a length-delimited field, without its payload. */
export const pbHead = (field: number, length: number) => Buffer.concat([key(field, 2), varint(BigInt(length))]);
export const pbField = lengthDelimited;
export const pbVarint = (field: number, n: number) => Buffer.concat([key(field, 0), varint(BigInt(n))]);

/** JSON text nested `depth` levels deep (arrays or objects), ending in `leaf`. */
export function deepJson(depth: number, kind: "array" | "object", leaf = "1"): string {
  return kind === "array" ? "[".repeat(depth) + leaf + "]".repeat(depth) : '{"a":'.repeat(depth) + leaf + "}".repeat(depth);
}

/** JSON text with a few characters changed, dropped or inserted. */
export function mutateText(rng: Rng, text: string): string {
  let s = text;
  const rounds = 1 + int(rng, 3);
  for (let r = 0; r < rounds; r++) {
    const at = int(rng, s.length + 1);
    const insert = pick(rng, ["{", "}", "[", "]", '"', ",", ":", "\\", "\\u", "\\ud800", "null", "1e999", "-0", "\u0000", "\u2028", "💥", "__proto__"]);
    switch (int(rng, 3)) {
      case 0: s = s.slice(0, at) + insert + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + int(rng, 4)); break;
      default: s = s.slice(0, at) + insert + s.slice(at + 1);
    }
  }
  return s;
}

/** Bytes that are not UTF-8: lone continuation bytes, overlong forms, surrogates, 0xff. */
export const INVALID_UTF8: readonly Buffer[] = [
  Buffer.from([0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0xe2, 0x82]),
];

/** Strings a person or an attacker may send where a name goes. */
export function hostileString(rng: Rng): string {
  return pick(rng, [
    "", " ", "a", "..", "../../etc/passwd", "a/b", "a\\b", "-rf", ".git", "configs", "nginx-access", "x".repeat(129), "x".repeat(int(rng, 5000)),
    "é", "名前", "\u0000", "a\nb", "%2e%2e", "CON", "a b", "${HOME}", "'; DROP TABLE x; --", "<script>", "\ud800", "null", "0", "default", "-",
  ]);
}
