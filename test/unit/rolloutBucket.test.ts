// Unit tests of who gets what in a rollout (src/domain/rolloutBucket.ts): buckets and waves.
import test from "ava";
import { parseIpSelector, type IpSelector } from "../../src/domain/addressMatch.ts";
import { countCuts, inWaves, rolloutBucket, waveOf, type WaveAgent } from "../../src/domain/rolloutBucket.ts";
import { withFinalWave, type RolloutPolicy, type Wave } from "../../src/domain/rolloutPolicy.ts";

const policy = (waves: Wave[]): RolloutPolicy => ({ waves: withFinalWave(waves), bakeMs: 0, applyTimeoutMs: 1000, halt: { failed: 1 }, onHalt: "pause", source: "rollout.yaml" });
const pct = (p: number): Wave => ({ kind: "percent", text: `${p}%`, basisPoints: p * 100 });
const count = (n: number): Wave => ({ kind: "count", text: String(n), count: n });
const agent = (instanceId: string, extra: Partial<WaveAgent> = {}): WaveAgent => ({ instanceId, tags: { named: {} }, ip: "", hostname: "", ...extra });
const ids = Array.from({ length: 10_000 }, (_, i) => `agent-${i}`);

test("the bucket is FNV-1a 32-bit of id NUL config, mod 10000 (known values)", (t) => {
  // A reference FNV-1a, checked against the algorithm's published test vectors first.
  const fnv = (bytes: Buffer) => {
    let h = 0x811c9dc5;
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    return h;
  };
  t.is(fnv(Buffer.from("")), 0x811c9dc5);
  t.is(fnv(Buffer.from("a")), 0xe40c292c);
  t.is(fnv(Buffer.from("foobar")), 0xbf9cf968);
  const h = fnv(Buffer.from("a\0b"));
  t.is(rolloutBucket("a", "b"), h % 10_000);
  // The separator matters: ("ab", "") and ("a", "b") are different agents/configs.
  t.not(rolloutBucket("ab", ""), rolloutBucket("a", "b"));
  // Multi-byte characters hash as UTF-8.
  let u = 0x811c9dc5;
  for (const b of Buffer.from("é\0c", "utf8")) u = Math.imul(u ^ b, 0x01000193) >>> 0;
  t.is(rolloutBucket("é", "c"), u % 10_000);
});

test("buckets are deterministic, depend on the config, and spread evenly", (t) => {
  t.is(rolloutBucket("host-1", "nginx"), rolloutBucket("host-1", "nginx"));
  const a = ids.map((id) => rolloutBucket(id, "nginx"));
  const b = ids.map((id) => rolloutBucket(id, "syslog"));
  t.true(a.some((x, i) => x !== b[i]));
  const deciles = new Array<number>(10).fill(0);
  for (const x of a) {
    t.true(x >= 0 && x < 10_000 && Number.isInteger(x));
    deciles[Math.floor(x / 1000)] = (deciles[Math.floor(x / 1000)] ?? 0) + 1;
  }
  // 1,000 expected per decile; binomial sd ~30: a bad hash lands far outside this.
  for (const d of deciles) t.true(d > 850 && d < 1150, String(deciles));
});

test("percentages are cumulative by bucket: an agent of 1% is in 10%, wave numbers from 1", (t) => {
  const p = policy([pct(1), pct(10), pct(50), pct(100)]);
  t.is(p.waves.length, 4);
  const waves = ids.map((id) => waveOf(p, "nginx", agent(id)));
  ids.forEach((id, i) => {
    const b = rolloutBucket(id, "nginx");
    const expected = b < 100 ? 1 : b < 1000 ? 2 : b < 5000 ? 3 : 4;
    t.is(waves[i], expected);
    t.is(inWaves(p, 2, "nginx", agent(id)), expected <= 2);
  });
  const share = (w: number) => waves.filter((x) => x <= w).length / ids.length;
  t.true(share(1) > 0.005 && share(1) < 0.015);
  t.true(share(2) > 0.08 && share(2) < 0.12);
  t.is(share(4), 1);
});

test("a list that does not end at 100% gets a final wave of everyone", (t) => {
  const p = policy([pct(5)]);
  t.is(p.waves.length, 2);
  for (const id of ids.slice(0, 500)) t.is(waveOf(p, "c", agent(id)), rolloutBucket(id, "c") < 500 ? 1 : 2);
});

test("an agent belongs to the first wave that selects it: selectors by tags (v1 by value) and by ips", (t) => {
  const ips = parseIpSelector("10.1.0.0/16") as IpSelector;
  const p = policy([{ kind: "select", text: "tags env=staging", tags: [{ name: "env", value: "staging" }], ips: [] }, { kind: "select", text: "ips", tags: [], ips: [ips] }, pct(100)]);
  t.is(waveOf(p, "c", agent("a", { tags: { named: { env: "staging" } }, ip: "10.1.2.3" })), 1);
  t.is(waveOf(p, "c", agent("b", { tags: { named: { env: "prod" } }, ip: "10.1.2.3" })), 2);
  t.is(waveOf(p, "c", agent("c", { tags: { named: {}, values: ["staging"] } })), 1);
  t.is(waveOf(p, "c", agent("d", { ip: "10.2.0.1" })), 3);
  t.is(waveOf(p, "c", agent("e", { ip: "::ffff:10.1.0.9" })), 2);
  const byHost = policy([{ kind: "select", text: "hostnames canary-*", tags: [], ips: [], hostnames: ["canary-*"] }]);
  t.is(waveOf(byHost, "c", agent("f", { hostname: "Canary-3" })), 1);
  t.is(waveOf(byHost, "c", agent("g", { hostname: "web-3" })), 2);
  t.false(inWaves(p, 2, "c", agent("d", { ip: "10.2.0.1" })));
  t.true(inWaves(p, 3, "c", agent("d", { ip: "10.2.0.1" })));
});

test("counts: the first N agents in bucket order, fixed by the cut made when the wave starts", (t) => {
  const p = policy([count(25), count(100), pct(100)]);
  const fleet = ids.slice(0, 1000);
  const cuts = countCuts(p, "nginx", fleet);
  const inFirst = fleet.filter((id) => waveOf(p, "nginx", agent(id), cuts) === 1);
  t.is(inFirst.length, 25);
  const byBucket = [...fleet].sort((a, b) => rolloutBucket(a, "nginx") - rolloutBucket(b, "nginx") || (a < b ? -1 : 1));
  t.deepEqual([...inFirst].sort(), byBucket.slice(0, 25).sort());
  t.is(fleet.filter((id) => waveOf(p, "nginx", agent(id), cuts) <= 2).length, 100);
  // A newcomer never pushes anyone out: with the cuts kept, the 25 stay in wave 1.
  const more = ids.slice(1000, 3000);
  t.deepEqual(inFirst.filter((id) => waveOf(p, "nginx", agent(id), cuts) === 1), inFirst);
  t.true(more.filter((id) => waveOf(p, "nginx", agent(id), cuts) === 1).length > 0);
  // A count larger than the fleet takes everyone.
  const small = countCuts(p, "nginx", fleet.slice(0, 10));
  t.deepEqual(small, [undefined, undefined, undefined]);
  t.true(fleet.slice(0, 10).every((id) => waveOf(p, "nginx", agent(id), small) === 1));
  // Without counts nothing is sorted.
  t.deepEqual(countCuts(policy([pct(10)]), "nginx", fleet), [undefined, undefined]);
});

test("the bucket hashes exactly the bytes TextEncoder makes: 1- to 4-byte characters and lone surrogates (U+FFFD)", (t) => {
  const fnv = (text: string) => {
    let h = 0x811c9dc5;
    for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    return h % 10_000;
  };
  const pieces = ["a", "Z", "~", "\u007f", "\u0080", "é", "\u07ff", "\u0800", "中", "\uffff", "😀", "\ud800", "\udfff", "\ud83d", "x\udc00y", "\ud83d\ude00\ud83d"];
  // Every pair of pieces, in both strings, and a few long mixes: each must hash as the encoded bytes do.
  let checked = 0;
  for (const a of pieces) for (const b of pieces) {
    t.is(rolloutBucket(`${a}${b}`, `${b}${a}`), fnv(`${a}${b}\0${b}${a}`), JSON.stringify([a, b]));
    checked++;
  }
  const long = pieces.join("-").repeat(20);
  t.is(rolloutBucket(long, "cfg"), fnv(`${long}\0cfg`));
  t.is(checked, pieces.length ** 2);
});
