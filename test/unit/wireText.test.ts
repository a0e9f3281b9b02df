// src/protocols/wire.ts asciiText and stringField (internal: the agent path reads ids and request
// ids from the bytes with them): the same text as Buffer's decoding, at every length around the
// builtin path's limit, from a Buffer or a plain Uint8Array view, at any offset.
import test from "ava";
import { asciiText, stringField } from "../../src/protocols/wire.ts";

const ascii = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(0x20 + ((i * 7) % 95))).join("");

test("asciiText gives Buffer's text of the bytes at every length (0-300) and offset", (t) => {
  for (let n = 0; n <= 300; n++) {
    const text = ascii(n);
    const buf = Buffer.from(`\x01\x02${text}\x03`, "latin1");
    const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    const want = buf.toString("latin1", 2, 2 + n);
    t.is(want, text);
    if (asciiText(buf, 2, 2 + n) !== want || asciiText(view, 2, 2 + n) !== want) return t.fail(`length ${n}: ${JSON.stringify(asciiText(buf, 2, 2 + n))}`);
  }
  t.pass();
});

test("asciiText: the same lengths in a row do not leak one call's bytes into the next", (t) => {
  const a = Buffer.from("agent-0001");
  const b = Buffer.from("zz");
  t.is(asciiText(a, 0, 10), "agent-0001");
  t.is(asciiText(b, 0, 2), "zz");
  t.is(asciiText(a, 6, 8), "00");
  t.is(asciiText(a, 0, 10), "agent-0001");
});

test("stringField reads ASCII with asciiText and other bytes as strict UTF-8 (a bad sequence throws)", (t) => {
  t.is(stringField(Buffer.from("xhb-agent-7y"), 1, 11), "hb-agent-7");
  t.is(stringField(Buffer.from("agent-é-ü"), 0, 11), "agent-é-ü");
  t.throws(() => stringField(Uint8Array.of(0x61, 0xc3), 0, 2));
});
