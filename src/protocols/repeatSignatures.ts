/**
 * What the repeat memory may hold: a request larger than REMEMBERED_BYTES is never remembered, and
 * the copies all routes hold together stay under BUDGET_BYTES (counted when memory for copies is
 * taken, released when the collector frees it: a memo goes with its record, or is replaced). Past
 * the budget, new requests are decoded each time; answers are the same, only slower.
 *
 * Most signatures are per agent (its ip or hostname is in the bytes) and small, so they are cut
 * from shared slabs of SLAB_BYTES, and the collector is asked to report a slab, not each copy: a
 * FinalizationRegistry entry costs about 70 bytes of heap, as much as the copy itself, and one per
 * agent per route showed in the memory per agent (bench/agentMemory.ts). A slab is freed when the
 * last copy cut from it is, and is counted whole until then: that is what the process holds
 * (Buffer.allocUnsafe's own pool pins its 8 KiB the same way). A copy larger than a quarter of a
 * slab gets its own memory, counted and reported alone.
 */
export const REMEMBERED_BYTES = 16 * 1024;
const BUDGET_BYTES = 128 * 1024 * 1024;
const SLAB_BYTES = 8 * 1024;
let heldBytes = 0;
const released = new FinalizationRegistry<number>((length) => {
  heldBytes -= length;
});
let slab: ArrayBuffer | undefined;
let slabUsed = 0;

/** `length` bytes for a copy, counted against the budget; undefined past it. */
function allocate(length: number): Buffer | undefined {
  if (length > SLAB_BYTES / 4) {
    if (heldBytes + length > BUDGET_BYTES) return undefined;
    const own = Buffer.allocUnsafeSlow(length);
    heldBytes += length;
    released.register(own.buffer, length);
    return own;
  }
  if (slab === undefined || slabUsed + length > SLAB_BYTES) {
    if (heldBytes + SLAB_BYTES > BUDGET_BYTES) return undefined;
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
    heldBytes += SLAB_BYTES;
    released.register(slab, SLAB_BYTES);
  }
  const copy = Buffer.from(slab, slabUsed, length);
  slabUsed += length;
  return copy;
}

/**
 * Signatures by content: agents of one group poll with the same bytes but for their id (their
 * tags, the versions they hold), so one copy serves them all. Found by a hash of the bytes,
 * computed only when a request is remembered; a different signature under the same hash keeps
 * its own copy. Bounded: past MAX the table starts again (memos keep the copies they hold).
 */
export class Signatures {
  private static readonly MAX = 100_000;
  private readonly byHash = new Map<number, Buffer>();

  /** body[from, idFrom) followed by body[idTo, end), shared when an equal one is known; undefined past the budget. */
  of(body: Buffer, from: number, idFrom: number, idTo: number): Buffer | undefined {
    const head = idFrom - from;
    const length = head + body.length - idTo;
    let h = 0x811c9dc5;
    for (let i = from; i < idFrom; i++) h = Math.imul(h ^ (body[i] as number), 0x01000193);
    for (let i = idTo; i < body.length; i++) h = Math.imul(h ^ (body[i] as number), 0x01000193);
    h = (h ^ length) >>> 0;
    const known = this.byHash.get(h);
    if (known !== undefined && known.length === length && body.compare(known, 0, head, from, idFrom) === 0 && body.compare(known, head, length, idTo) === 0) return known;
    const copy = allocate(length);
    if (copy === undefined) return undefined;
    body.copy(copy, 0, from, idFrom);
    body.copy(copy, head, idTo);
    if (known === undefined) {
      if (this.byHash.size >= Signatures.MAX) this.byHash.clear();
      this.byHash.set(h, copy);
    }
    return copy;
  }
}
