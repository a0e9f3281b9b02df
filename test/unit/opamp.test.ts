// Internal (test/unit): how OpAMP configs are split from LoongCollector ones per tag set, how a
// config map and its hash are made once per snapshot per distinct map, and how drift is judged.
import test from "ava";
import { driftOf } from "../../src/domain/agentStatus.ts";
import { tagsKey } from "../../src/domain/matching.ts";
import { opampContentType, opampFiles } from "../../src/domain/opampConfigs.ts";
import { RepoState } from "../../src/domain/repoState.ts";
import type { ConfigRecord, GroupSpec } from "../../src/domain/types.ts";
import { servedMap } from "../../src/protocols/opamp/configMap.ts";

const config = (name: string, agentType: string, content: string, version = 1): ConfigRecord => ({ name, agentType, description: "", content, version, commit: "c" });
const groups: GroupSpec[] = [
  { name: "web", description: "", tags: [{ name: "service.name", value: "web" }], configs: ["collector", "nginx"] },
  { name: "api", description: "", tags: [{ name: "service.name", value: "api" }], configs: ["collector"] },
];
const stateWith = (collector: string, version = 1) =>
  new RepoState("c", version, 0, [config("collector", "opamp", collector, version), config("nginx", "LoongCollector", "inputs: []\n"), config("elastic", " OpAMP ", '{"logging_level":"info"}')], groups);
const applied = (s: RepoState, name: string) => {
  const tags = { named: { "service.name": name } };
  return s.applied(tagsKey(tags), tags);
};

test("agent_type: opamp configs are OpAMP agents' only: never in the LoongCollector list of the same tag set", (t) => {
  const s = stateWith("receivers: {}\n");
  const web = applied(s, "web");
  t.deepEqual(web.configs.map((c) => c.name), ["nginx"]);
  t.deepEqual(web.opamp.map((c) => c.name), ["collector"]);
  t.deepEqual(applied(s, "none").opamp, []);
  t.true(Object.isFrozen(web.opamp) && Object.isFrozen(web.configs));
  t.deepEqual(s.notMappings, [], "an opamp config is not listed as not sendable to v2 agents");
});

test("a config map is made once per snapshot per distinct map; its hash depends only on the files", (t) => {
  const s = stateWith("receivers: {}\n");
  const web = servedMap(s, applied(s, "web").opamp);
  const api = servedMap(s, applied(s, "api").opamp);
  t.is(api, web, "two tag sets receiving the same configs share one map");
  t.is(servedMap(s, applied(s, "web").opamp), web);
  // Another snapshot (a later commit, another replica, a restart) with the same files: the same hash.
  const later = stateWith("receivers: {}\n", 7);
  const again = servedMap(later, applied(later, "web").opamp);
  t.not(again, web);
  t.is(again.hex, web.hex);
  t.is(again.files[0]?.version, 7);
  const changed = stateWith("receivers: {otlp: {}}\n", 8);
  t.not(servedMap(changed, applied(changed, "web").opamp).hex, web.hex);
  const empty = servedMap(s, applied(s, "none").opamp);
  t.deepEqual(empty.remoteConfig.config.config_map, {});
  t.is(empty.hash.length, 32);
  t.not(empty.hex, web.hex);
});

test("content types: JSON for a JSON object or array or format: json, text for format: text, YAML otherwise", (t) => {
  t.is(opampContentType({ content: '{"a":1}' }), "application/json");
  t.is(opampContentType({ content: "  [1, 2]" }), "application/json");
  t.is(opampContentType({ content: "{a: 1}" }), "application/yaml", "a YAML flow mapping is not JSON");
  t.is(opampContentType({ content: "a: 1\n" }), "application/yaml");
  t.is(opampContentType({ content: "a: 1\n", format: "json" }), "application/json");
  t.is(opampContentType({ content: "anything", format: "text" }), "text/plain");
});

test("drift: byte for byte per file; unknown without an effective config or a kept body; unmanaged files are listed, not drift", (t) => {
  const files = opampFiles([config("collector", "opamp", "a: 1\n"), config("extra", "opamp", "b: 2\n")]);
  t.deepEqual(driftOf(files, undefined).state, "unknown");
  t.deepEqual(driftOf(files, { collector: { contentType: "application/yaml", size: 5, body: "a: 1\n" }, extra: { contentType: "", size: 5, body: "b: 2\n" }, local: { contentType: "", size: 1, body: "x" } }), {
    state: "none",
    files: [{ name: "collector", state: "same" }, { name: "extra", state: "same" }],
    unmanaged: ["local"],
  });
  const drifted = driftOf(files, { collector: { contentType: "", size: 5, body: "a: 2\n" }, extra: { contentType: "", size: 999999 } });
  t.is(drifted.state, "drift");
  t.deepEqual(drifted.files, [{ name: "collector", state: "differs" }, { name: "extra", state: "unknown" }]);
  t.deepEqual(driftOf(files, {}).files.map((f) => f.state), ["missing", "missing"]);
});
