// Unit tests of group matching by ips and hostnames, and of the applied-list cache when they matter
// (src/domain/matching.ts, src/domain/repoState.ts).
import test from "ava";
import { parseIpSelector, type IpSelector } from "../../src/domain/addressMatch.ts";
import { groupMatches, matchKey, tagsKey } from "../../src/domain/matching.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import type { ConfigRecord, GroupSpec } from "../../src/domain/types.ts";

const ips = (...t: string[]) => t.map((s) => parseIpSelector(s) as IpSelector);
const group = (name: string, o: Partial<GroupSpec> = {}): GroupSpec => ({ name, description: "", tags: [], configs: [], ...o });
const config = (name: string): ConfigRecord => ({ name, agentType: "", description: "", content: "a: 1\n", version: 1, commit: "c", detailJson: '{"a":1}' });
const NONE = { named: {} };

test("a group matches when any tag, any ip selector or any hostname selector matches", (t) => {
  const g = group("g", { tags: [{ name: "env", value: "prod" }], ips: ips("10.1.0.0/16", "192.168.1.200-230"), hostnames: ["web-*"] });
  t.true(groupMatches(g, { named: { env: "prod" } }, { ip: "", hostname: "" }));
  t.true(groupMatches(g, NONE, { ip: "10.1.9.9", hostname: "" }));
  t.true(groupMatches(g, NONE, { ip: "192.168.1.230", hostname: "" }));
  t.true(groupMatches(g, NONE, { ip: "", hostname: "WEB-3" }));
  t.false(groupMatches(g, NONE, { ip: "10.2.0.1", hostname: "db-1" }));
  t.false(groupMatches(g, NONE, { ip: "", hostname: "" }));
  // Without the address (callers that know only tags), only tags match.
  t.false(groupMatches(g, NONE));
  // A group with only address selectors.
  t.true(groupMatches(group("h", { hostnames: ["*.prod.example.com"] }), NONE, { ip: "10.0.0.1", hostname: "a.prod.example.com" }));
});

test("the cache key carries the address only when some group selects by it", (t) => {
  const k = tagsKey({ named: { env: "prod" } });
  t.is(matchKey(k, { ip: "10.0.0.1", hostname: "h" }, { ip: false, hostname: false }), k);
  t.not(matchKey(k, { ip: "10.0.0.1", hostname: "h" }, { ip: true, hostname: false }), matchKey(k, { ip: "10.0.0.2", hostname: "h" }, { ip: true, hostname: false }));
  t.is(matchKey(k, { ip: "10.0.0.1", hostname: "a" }, { ip: true, hostname: false }), matchKey(k, { ip: "10.0.0.1", hostname: "b" }, { ip: true, hostname: false }));
  t.is(matchKey(k, { ip: "1", hostname: "Web-1" }, { ip: false, hostname: true }), matchKey(k, { ip: "2", hostname: "web-1" }, { ip: false, hostname: true }));
});

test("applied lists follow each agent's address, cached or not, and agents with the same groups share one list", (t) => {
  const state = new RepoState("c", 1, 0, [config("base"), config("web"), config("lan")], [
    group("default", { configs: ["base"] }),
    group("web", { hostnames: ["web-*"], configs: ["web"] }),
    group("lan", { ips: ips("10.0.0.0/8"), configs: ["lan"] }),
  ]);
  t.deepEqual(state.addressSelectors, { ip: true, hostname: true });
  const key = tagsKey(NONE);
  const names = (ip: string, hostname: string) => state.applied(key, NONE, { ip, hostname }).configs.map((c) => c.name);
  for (let round = 0; round < 2; round++) {
    t.deepEqual(names("10.0.0.1", "web-1"), ["base", "lan", "web"]);
    t.deepEqual(names("192.168.0.1", "web-1"), ["base", "web"]);
    t.deepEqual(names("10.0.0.2", "db-1"), ["base", "lan"]);
    t.deepEqual(names("", ""), ["base"]);
  }
  t.is(state.applied(key, NONE, { ip: "10.0.0.3", hostname: "web-9" }), state.applied(key, NONE, { ip: "10.9.9.9", hostname: "web-1" }));
  // Without address selectors the address plays no part and the cache is per tag set, as before.
  const plain = new RepoState("c", 1, 0, [config("base")], [group("default", { configs: ["base"] })]);
  t.deepEqual(plain.addressSelectors, { ip: false, hostname: false });
  t.is(plain.applied(key, NONE, { ip: "10.0.0.1", hostname: "a" }), plain.applied(key, NONE, { ip: "10.0.0.2", hostname: "b" }));
});

test("many distinct addresses keep the cache bounded and the answers right", (t) => {
  const state = new RepoState("c", 1, 0, [config("lan")], [group("lan", { ips: ips("10.0.0.0/9"), configs: ["lan"] })]);
  const key = tagsKey(NONE);
  for (let i = 0; i < 25_000; i++) {
    const ip = `10.${i % 256}.${(i >> 8) % 256}.1`;
    const got = state.applied(key, NONE, { ip, hostname: "" }).configs.length;
    if (got !== (i % 256 < 128 ? 1 : 0)) return t.fail(ip);
  }
  t.pass();
});

test("the workers' snapshot message carries the rollout policy and address selectors through JSON", async (t) => {
  const { applySnapshot, snapshotMessage } = await import("../../src/cluster/snapshotWire.ts");
  const { parseRolloutFile } = await import("../../src/store/yaml/parseFiles.ts");
  const rollout = parseRolloutFile("rollout.yaml", "waves: [{ips: [10.0.0.0/8]}, 5%]\nbake: 1s\n").value;
  const state = new RepoState("c", 1, 0, [config("lan")], [group("lan", { ips: ips("10.0.0.0/8", "fd00::/8"), hostnames: ["web-*"], configs: ["lan"] })], [], rollout);
  const wired = applySnapshot(undefined, JSON.parse(JSON.stringify(snapshotMessage(state))));
  t.deepEqual(wired?.rollout, rollout);
  t.deepEqual(wired?.groups.get("lan"), state.groups.get("lan"));
  t.deepEqual(wired?.applied("[]", NONE, { ip: "fd00::1", hostname: "" }).configs.map((c) => c.name), ["lan"]);
  t.deepEqual(wired?.applied("[]", NONE, { ip: "", hostname: "web-1" }).configs.map((c) => c.name), ["lan"]);
});
