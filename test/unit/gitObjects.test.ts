import { createHash } from "node:crypto";
import test from "ava";
import { indexStat, patchIndex, type IndexChange } from "../../src/store/git/gitIndex.ts";
import { cleanMessage, decodeTree, encodeCommit, encodeTree, formatIdentity, objectWithHeader, patchTree, TREE_MODE, type TreeEntry } from "../../src/store/git/gitObjects.ts";

const id = (hex: string) => Buffer.from(hex.repeat(40).slice(0, 40), "hex");
const entry = (mode: string, name: string, hex = "a"): TreeEntry => ({ mode, name: Buffer.from(name), id: id(hex) });
const names = (entries: readonly TreeEntry[]) => entries.map((e) => e.name.toString());

test("object ids are git's: the empty blob and the empty tree", (t) => {
  t.is(objectWithHeader("blob", Buffer.alloc(0)).id, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  t.is(objectWithHeader("tree", Buffer.alloc(0)).id, "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
  t.is(objectWithHeader("blob", Buffer.from("hello\n")).id, "ce013625030ba8dba906f756967f9e9ca394464a");
});

test("trees are ordered as git orders them: a folder sorts as if its name ended in '/'", (t) => {
  const tree = encodeTree([entry(TREE_MODE, "a"), entry("100644", "a.b"), entry("100644", "a-"), entry("100644", "a0")]);
  t.deepEqual(names(decodeTree(tree)), ["a-", "a.b", "a", "a0"]);
  const decoded = decodeTree(tree);
  t.is(decoded[2]?.mode, TREE_MODE);
  t.true(decoded[2]?.id.equals(id("a")));
});

test("patchTree replaces, adds and removes by name, and refuses to turn a folder into a file", (t) => {
  const base = [entry("100644", "keep.yaml"), entry("100644", "old.yaml"), entry("100644", "gone.yaml")];
  const patched = patchTree(base, new Map([
    ["old.yaml", { mode: "100644", id: id("b") }],
    ["new.yaml", { mode: "100644", id: id("c") }],
    ["gone.yaml", undefined],
    ["never-there.yaml", undefined],
  ]));
  t.deepEqual(names(patched), ["keep.yaml", "old.yaml", "new.yaml"]);
  t.true(patched[1]?.id.equals(id("b")));
  t.throws(() => patchTree([entry(TREE_MODE, "configs")], new Map([["configs", { mode: "100644", id: id("d") }]])), { message: /changes kind/ });
});

test("commit messages are cleaned as `git commit -m` cleans them", (t) => {
  t.is(cleanMessage("Update config a"), "Update config a\n");
  t.is(cleanMessage("\n\nsubject  \n\n\n\nbody\t\n\n"), "subject\n\nbody\n");
  t.is(cleanMessage("   \n"), "");
});

test("identities carry the time zone as ±hhmm and drop characters that would break the header", (t) => {
  t.is(formatIdentity({ name: "A <B>", email: "a@b\n", seconds: 1700000000, offsetMinutes: -330 }), "A B <a@b> 1700000000 -0530");
  t.is(formatIdentity({ name: "n", email: "e", seconds: 1, offsetMinutes: 60 }), "n <e> 1 +0100");
  const who = { name: "n", email: "e", seconds: 5, offsetMinutes: 0 };
  t.is(encodeCommit("t".repeat(40), ["p".repeat(40)], who, who, "msg").toString(), `tree ${"t".repeat(40)}\nparent ${"p".repeat(40)}\nauthor n <e> 5 +0000\ncommitter n <e> 5 +0000\n\nmsg\n`);
});

/** An index file: header, entries, extensions, SHA-1 trailer. */
function indexFile(version: number, entries: { path: string; stage?: number }[], extensions: Buffer[] = []): Buffer {
  const header = Buffer.alloc(12);
  header.write("DIRC", 0, "latin1");
  header.writeUInt32BE(version, 4);
  header.writeUInt32BE(entries.length, 8);
  const bodies = entries.map((e) => {
    const path = Buffer.from(e.path);
    const b = Buffer.alloc((62 + path.length + 8) & ~7);
    b.writeUInt32BE(0o100644, 24);
    b.writeUInt16BE(((e.stage ?? 0) << 12) | path.length, 60);
    path.copy(b, 62);
    return b;
  });
  const body = Buffer.concat([header, ...bodies, ...extensions]);
  return Buffer.concat([body, createHash("sha1").update(body).digest()]);
}

/** Paths and stages of an index, read independently of patchIndex. */
function readPaths(index: Buffer): string[] {
  const count = index.readUInt32BE(8);
  const out: string[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    const nul = index.indexOf(0, at + 62);
    out.push(index.toString("utf8", at + 62, nul));
    at += (62 + (nul - at - 62) + 8) & ~7;
  }
  assertChecksum(index);
  return out;
}

function assertChecksum(index: Buffer): void {
  const body = index.subarray(0, index.length - 20);
  if (!createHash("sha1").update(body).digest().equals(index.subarray(index.length - 20))) throw new Error("bad checksum");
}

const stat = { ctimeSec: 1, ctimeNsec: 2, mtimeSec: 3, mtimeNsec: 4, dev: 5, ino: 6, mode: 0o100644, uid: 7, gid: 8, size: 9 };
const change = (hex: string): IndexChange => ({ stat, id: id(hex) });

test("patchIndex adds, replaces and removes entries, keeps them sorted, and rewrites the checksum", (t) => {
  const tree = Buffer.concat([Buffer.from("TREE"), Buffer.from([0, 0, 0, 2]), Buffer.from("xx")]);
  const index = indexFile(2, [{ path: "README.md" }, { path: "configs/a.yaml" }, { path: "configs/c.yaml" }], [tree]);
  const patched = patchIndex(index, new Map([["configs/b.yaml", change("b")], ["configs/c.yaml", undefined], ["configs/a.yaml", change("a")]]));
  if (!patched) return t.fail("declined a plain version-2 index");
  t.deepEqual(readPaths(patched), ["README.md", "configs/a.yaml", "configs/b.yaml"]);
  // The new entry carries the stat and the blob id; the optional cache-tree extension is dropped.
  const b = patched.subarray(12 + 72 + 80);
  t.is(b.readUInt32BE(36), 9);
  t.true(b.subarray(40, 60).equals(id("b")));
  t.is(patched.length, 12 + 72 + 80 + 80 + 20);
});

test("patchIndex declines what it cannot edit safely", (t) => {
  const plain = indexFile(2, [{ path: "a" }]);
  t.truthy(patchIndex(plain, new Map()));
  t.is(patchIndex(indexFile(4, [{ path: "a" }]), new Map()), undefined, "version 4");
  const link = Buffer.concat([Buffer.from("link"), Buffer.from([0, 0, 0, 0])]);
  t.is(patchIndex(indexFile(2, [{ path: "a" }], [link]), new Map()), undefined, "a required extension (split index)");
  const corrupt = Buffer.from(plain);
  corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 1, corrupt.length - 1);
  t.is(patchIndex(corrupt, new Map()), undefined, "a checksum mismatch");
  const conflicted = indexFile(2, [{ path: "a", stage: 1 }, { path: "a", stage: 2 }]);
  t.is(patchIndex(conflicted, new Map([["a", change("a")]])), undefined, "a conflict on a written path");
  t.truthy(patchIndex(conflicted, new Map([["b", change("b")]])), "a conflict elsewhere is kept as is");
});

test("indexStat keeps git's 32-bit fields, nanoseconds and the executable bit only", (t) => {
  const s = indexStat({ ctimeNs: 1_700_000_000_123_456_789n, mtimeNs: 5_000_000_001n, dev: 0x1_0000_0002n, ino: 3n, mode: 0o100775n, uid: 1000n, gid: 1000n, size: 0x1_0000_0010n });
  t.deepEqual(s, { ctimeSec: 1_700_000_000, ctimeNsec: 123_456_789, mtimeSec: 5, mtimeNsec: 1, dev: 2, ino: 3, mode: 0o100755, uid: 1000, gid: 1000, size: 16 });
  t.is(indexStat({ ctimeNs: 0n, mtimeNs: 0n, dev: 0n, ino: 0n, mode: 0o100664n, uid: 0n, gid: 0n, size: 0n }).mode, 0o100644);
});
