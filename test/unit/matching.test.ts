import test from "ava";
import { groupMatches as matchesTags, sameTags, tagsKey as keyOf } from "../../src/domain/matching.ts";
import type { GroupSpec, Tag } from "../../src/domain/types.ts";

// alpha and v2 agents send named tags; these tests are about those (v1 values are tested below).
const groupMatches = (g: GroupSpec, named: Record<string, string>) => matchesTags(g, { named });
const tagsKey = (named: Record<string, string>) => keyOf({ named });

const group = (name: string, tags: Tag[]): GroupSpec => ({ name, description: "", tags, configs: [] });

test("default matches every agent, whatever its own tags say", (t) => {
  const d = group("default", [{ name: "env", value: "never" }]);
  t.true(groupMatches(d, {}));
  t.true(groupMatches(d, { env: "prod" }));
});

test("a group without tags matches no agent", (t) => {
  t.false(groupMatches(group("g", []), {}));
  t.false(groupMatches(group("g", []), { env: "prod" }));
});

test("any one tag equal to the agent's tag of that name matches", (t) => {
  const g = group("g", [{ name: "env", value: "prod" }, { name: "role", value: "web" }]);
  t.true(groupMatches(g, { env: "prod" }));
  t.true(groupMatches(g, { role: "web", env: "dev" }));
  t.true(groupMatches(g, { env: "prod", role: "web", other: "x" }));
  t.false(groupMatches(g, { env: "dev", role: "db" }));
  t.false(groupMatches(g, {}));
});

test("names and values compare exactly and case-sensitively", (t) => {
  const g = group("g", [{ name: "env", value: "prod" }]);
  t.false(groupMatches(g, { env: "Prod" }));
  t.false(groupMatches(g, { Env: "prod" }));
  t.false(groupMatches(g, { env: "prod " }));
  t.false(groupMatches(g, { env: "pro" }));
  t.false(groupMatches(g, { prod: "env" }));
});

test("an empty value matches only an agent tag with the empty value", (t) => {
  const g = group("g", [{ name: "zone", value: "" }]);
  t.true(groupMatches(g, { zone: "" }));
  t.false(groupMatches(g, {}));
  t.false(groupMatches(g, { zone: "a" }));
});

test("inherited object properties are not agent tags", (t) => {
  t.false(groupMatches(group("g", [{ name: "constructor", value: "function Object() { [native code] }" }]), {}));
  t.false(groupMatches(group("g", [{ name: "toString", value: String(Object.prototype.toString) }]), {}));
  t.false(groupMatches(group("g", [{ name: "hasOwnProperty", value: "" }]), {}));
});

test("tagsKey ignores order and separates different tag sets", (t) => {
  t.is(tagsKey({ a: "1", b: "2" }), tagsKey({ b: "2", a: "1" }));
  t.not(tagsKey({ a: "1" }), tagsKey({ a: "2" }));
  t.not(tagsKey({ a: "1,b" }), tagsKey({ a: "1", b: "" }));
  t.not(tagsKey({ "a\"": "" }), tagsKey({ a: "\"" }));
  t.not(tagsKey({}), tagsKey({ "": "" }));
});

test("v1 agents' tag values match a group tag with that value, whatever its name", (t) => {
  const g = group("g", [{ name: "env", value: "prod" }]);
  t.true(matchesTags(g, { named: {}, values: ["prod"] }));
  t.true(matchesTags(g, { named: {}, values: ["web", "prod"] }));
  t.false(matchesTags(g, { named: {}, values: ["env"] }));
  t.false(matchesTags(g, { named: {}, values: ["Prod"] }));
  t.false(matchesTags(g, { named: {}, values: [] }));
  t.true(matchesTags(group("default", []), { named: {}, values: [] }));
});

test("tagsKey and sameTags tell value-only tag sets from named ones", (t) => {
  t.not(keyOf({ named: {}, values: [] }), keyOf({ named: {} }));
  t.is(keyOf({ named: {}, values: ["a", "b"] }), keyOf({ named: {}, values: ["b", "a"] }));
  t.not(keyOf({ named: {}, values: ["a"] }), keyOf({ named: { a: "" } }));
  t.true(sameTags({ named: { a: "1" } }, { named: { a: "1" } }));
  t.false(sameTags({ named: {}, values: ["a"] }, { named: {} }));
  t.false(sameTags({ named: {}, values: ["a"] }, { named: {}, values: ["b"] }));
  t.true(sameTags({ named: {}, values: ["a"] }, { named: {}, values: ["a"] }));
});
