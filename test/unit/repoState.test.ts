import test from "ava";
import { tagsKey } from "../../src/domain/matching.ts";
import { RepoState } from "../../src/domain/repoState.ts";

const state = () => new RepoState("c", 1, 0, [{ name: "a", agentType: "", description: "", content: "x", version: 1, commit: "c" }], [{ name: "g", description: "", tags: [{ name: "k", value: "v" }], configs: ["a"] }]);
const cached = (s: RepoState) => (s as unknown as { appliedCache: Map<string, unknown> }).appliedCache;

test("applied lists are cached per tag set and answered the same way cached or not", (t) => {
  const s = state();
  const tags = { named: { k: "v" } };
  const first = s.applied(tagsKey(tags), tags);
  t.deepEqual(first.configs.map((c) => c.name), ["a"]);
  t.is(s.applied(tagsKey(tags), tags), first);
  t.deepEqual(s.applied(tagsKey({ named: {} }), { named: {} }).configs, []);
});

test("the cache is bounded by the bytes of agents' tag sets, not only by their number", (t) => {
  const s = state();
  // 1 MiB tag sets, as an unauthenticated client can send in GetConfigList: the cache never holds
  // more than its byte budget (8 MiB) however many distinct ones arrive.
  for (let i = 0; i < 40; i++) {
    const tags = { named: { k: "v", [`pad${i}`]: "x".repeat(1024 * 1024) } };
    t.deepEqual(s.applied(tagsKey(tags), tags).configs.map((c) => c.name), ["a"]);
    const bytes = [...cached(s).keys()].reduce((n, k) => n + k.length, 0);
    t.true(bytes <= 8 * 1024 * 1024, `after ${i + 1}: ${bytes} bytes cached`);
  }
  const huge = { named: { k: "v", pad: "x".repeat(9 * 1024 * 1024) } };
  t.deepEqual(s.applied(tagsKey(huge), huge).configs.map((c) => c.name), ["a"], "a set larger than the budget is answered, not kept");
  t.false(cached(s).has(tagsKey(huge)));
});
