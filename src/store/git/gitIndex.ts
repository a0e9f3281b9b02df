import { createHash } from "node:crypto";

/**
 * Editing git's index file (versions 2 and 3) in memory: after a commit made without git, the
 * index must record the new blobs, or `git status` would show the committed files as changed.
 * Unknown formats (version 4's compressed paths, split or sparse indexes) are declined, and the
 * caller then lets git make the commit.
 */

/** What the index records of a file's stat, as git truncates it: 32-bit fields. */
export interface IndexStat {
  readonly ctimeSec: number;
  readonly ctimeNsec: number;
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

export interface IndexChange {
  readonly stat: IndexStat;
  /** 20-byte binary blob id. */
  readonly id: Buffer;
}

const FIXED = 62; // ctime..size (40) + id (20) + flags (2)
const TRAILER = 20;

/**
 * Walks the entries of an index (versions 2 and 3), one at a time: where the entry at `at`
 * starts, its flags, its path and where the next begins. One object per walk, not per entry.
 */
class EntryWalk {
  at = 12;
  flags = 0;
  nameStart = 0;
  /** The NUL that ends the path. */
  nul = 0;
  next = 0;

  constructor(
    private readonly index: Buffer,
    private readonly version: number,
    /** Where the entries (and extensions) end: the trailer's start. */
    private readonly end: number,
  ) {}

  /** Reads the entry at `at`; false when it does not fit before the end (an index this cannot read). */
  read(): boolean {
    const { index, at } = this;
    if (at + FIXED > this.end) return false;
    this.flags = index.readUInt16BE(at + 60);
    const extra = this.version >= 3 && (this.flags & 0x4000) !== 0 ? 2 : 0;
    this.nameStart = at + FIXED + extra;
    this.nul = index.indexOf(0, this.nameStart);
    if (this.nul < 0 || this.nul >= this.end) return false;
    this.next = at + ((FIXED + extra + (this.nul - this.nameStart) + 8) & ~7);
    return true;
  }
}

/**
 * The index with `changes` applied: a path mapped to a change gets a stage-0 entry for that blob,
 * a path mapped to undefined loses its entry. Optional extensions (cache tree, untracked cache…)
 * are dropped, which git allows and rebuilds. Undefined when the index is not one this can edit
 * safely (other version, a required extension, a checksum mismatch, a changed path in conflict).
 *
 * One pass over the sorted entries, copying runs of untouched ones as they are: no object per
 * entry, as the index of a large repository is rewritten on every API write.
 */
export function patchIndex(index: Buffer, changes: ReadonlyMap<string, IndexChange | undefined>): Buffer | undefined {
  if (index.length < 12 + TRAILER || index.toString("latin1", 0, 4) !== "DIRC") return undefined;
  const version = index.readUInt32BE(4);
  if (version !== 2 && version !== 3) return undefined;
  const end = index.length - TRAILER;
  const trailer = index.subarray(end);
  // index.skipHash writes a zero trailer; anything else must be the checksum.
  if (trailer.some((b) => b !== 0) && !createHash("sha1").update(index.subarray(0, end)).digest().equals(trailer)) return undefined;

  const pending = [...changes].map(([path, change]) => ({ path: Buffer.from(path, "utf8"), change })).sort((a, b) => Buffer.compare(a.path, b.path));
  const chunks: Buffer[] = [Buffer.alloc(12)];
  let count = index.readUInt32BE(8);
  let next = 0;
  let run = 12;
  const e = new EntryWalk(index, version, end);
  const emit = (upTo: number, resumeAt: number) => {
    const p = pending[next++] as (typeof pending)[number];
    chunks.push(index.subarray(run, upTo));
    run = resumeAt;
    if (p.change) {
      chunks.push(encodeEntry(p.path, p.change));
      count++;
    }
  };
  for (let i = index.readUInt32BE(8); i > 0; i--) {
    if (!e.read()) return undefined;
    // Changes that sort before this entry are new paths: insert them here.
    let order = 1;
    while (next < pending.length && (order = (pending[next] as (typeof pending)[number]).path.compare(index, e.nameStart, e.nul)) < 0) emit(e.at, e.at);
    if (next < pending.length && order === 0) {
      if (((e.flags >> 12) & 3) !== 0) return undefined; // a conflict on this path: git must handle it
      count--;
      emit(e.at, e.next);
    }
    e.at = e.next;
  }
  const entriesEnd = e.at;
  let at = entriesEnd;
  while (next < pending.length) emit(entriesEnd, entriesEnd);
  chunks.push(index.subarray(run, entriesEnd));
  while (at < end) {
    if (at + 8 > end) return undefined;
    const first = index[at] as number;
    if (first < 0x41 || first > 0x5a) return undefined; // lowercase signature = required extension
    at += 8 + index.readUInt32BE(at + 4);
  }
  if (at !== end) return undefined;

  const header = chunks[0] as Buffer;
  header.write("DIRC", 0, "latin1");
  header.writeUInt32BE(version, 4);
  header.writeUInt32BE(count, 8);
  const out = Buffer.concat(chunks);
  return Buffer.concat([out, createHash("sha1").update(out).digest()]);
}

/** An index entry as the racy-git check sees it. */
export interface IndexEntryView {
  readonly path: string;
  readonly stat: IndexStat;
  /** 20-byte binary blob id. */
  readonly id: Buffer;
  /** The entry's mode as recorded (0o100644, 0o100755, 0o120000, 0o160000). */
  readonly mode: number;
}

/**
 * git's racy-git rule when it writes an index (read-cache.c, ce_smudge_racily_clean_entry): an
 * entry whose file's mtime is not older than the index file it was read from may have changed in
 * the same clock tick without its stat showing it; if its content no longer matches, git writes
 * the entry with size 0 so that every later command compares the content. A writer that copies
 * untouched entries into a newer index file must do the same, or the newer file's mtime makes a
 * changed file look clean. `changed` answers for one racy entry (given its path and what the index
 * records); entries in `skip` (just written) are left as they are. Returns the index with those
 * entries smudged and the checksum recomputed, or the same buffer when none needed it.
 */
export function smudgeRacilyClean(index: Buffer, indexMtimeNs: bigint, changed: (entry: IndexEntryView) => boolean, skip: ReadonlySet<string>): Buffer {
  if (indexMtimeNs === 0n || index.length < 12 + TRAILER) return index;
  const sec = Number(indexMtimeNs / 1_000_000_000n);
  const nsec = Number(indexMtimeNs % 1_000_000_000n);
  const version = index.readUInt32BE(4);
  const end = index.length - TRAILER;
  let out: Buffer | undefined;
  const e = new EntryWalk(index, version, end);
  for (let i = index.readUInt32BE(8); i > 0; i--) {
    if (!e.read()) return index;
    const at = e.at;
    const mtimeSec = index.readUInt32BE(at + 8);
    const mtimeNsec = index.readUInt32BE(at + 12);
    const mode = index.readUInt32BE(at + 24);
    const size = index.readUInt32BE(at + 36);
    const racy = sec < mtimeSec || (sec === mtimeSec && nsec <= mtimeNsec);
    // Gitlinks are never racy (git compares submodule HEADs); size 0 is smudged already.
    if (racy && size !== 0 && (mode & 0o170000) !== 0o160000) {
      const path = index.toString("utf8", e.nameStart, e.nul);
      if (!skip.has(path)) {
        const read = (o: number) => index.readUInt32BE(at + o);
        const stat: IndexStat = { ctimeSec: read(0), ctimeNsec: read(4), mtimeSec, mtimeNsec, dev: read(16), ino: read(20), mode, uid: read(28), gid: read(32), size };
        if (changed({ path, stat, id: index.subarray(at + 40, at + 60), mode })) {
          out ??= Buffer.from(index);
          out.writeUInt32BE(0, at + 36);
        }
      }
    }
    e.at = e.next;
  }
  if (!out) return index;
  createHash("sha1").update(out.subarray(0, end)).digest().copy(out, end);
  return out;
}

function encodeEntry(path: Buffer, change: IndexChange): Buffer {
  const bytes = Buffer.alloc((FIXED + path.length + 8) & ~7);
  const s = change.stat;
  [s.ctimeSec, s.ctimeNsec, s.mtimeSec, s.mtimeNsec, s.dev, s.ino, s.mode, s.uid, s.gid, s.size].forEach((v, i) => bytes.writeUInt32BE(v >>> 0, i * 4));
  change.id.copy(bytes, 40);
  bytes.writeUInt16BE(Math.min(path.length, 0xfff), 60);
  path.copy(bytes, FIXED);
  return bytes;
}

/** The index's view of a regular file's lstat (bigint, for nanoseconds). */
export function indexStat(st: { ctimeNs: bigint; mtimeNs: bigint; dev: bigint; ino: bigint; mode: bigint; uid: bigint; gid: bigint; size: bigint }): IndexStat {
  const low = (v: bigint) => Number(v & 0xffffffffn);
  const sec = (ns: bigint) => low(ns / 1_000_000_000n);
  const nsec = (ns: bigint) => Number(ns % 1_000_000_000n);
  return {
    ctimeSec: sec(st.ctimeNs),
    ctimeNsec: nsec(st.ctimeNs),
    mtimeSec: sec(st.mtimeNs),
    mtimeNsec: nsec(st.mtimeNs),
    dev: low(st.dev),
    ino: low(st.ino),
    // git records only "regular file, executable or not".
    mode: (st.mode & 0o100n) !== 0n ? 0o100755 : 0o100644,
    uid: low(st.uid),
    gid: low(st.gid),
    size: low(st.size),
  };
}
