// Unit tests of rollout policy parsing (src/store/yaml/rolloutCodec.ts through parseFiles.ts) and its domain helpers.
import test from "ava";
import { FINAL_WAVE, formatDuration, parseDuration, parsePercent, POLICY_DEFAULTS } from "../../src/domain/rolloutPolicy.ts";
import { readRepoContent } from "../../src/store/repoContent.ts";
import { parseConfigFile, parseGroupFile, parseRolloutFile } from "../../src/store/yaml/parseFiles.ts";
import { renderConfig, renderGroup } from "../../src/store/yaml/renderFiles.ts";

const at = (r: { problems: readonly { line: number; column: number; message: string }[] }) =>
  [...r.problems].sort((a, b) => a.line - b.line || a.column - b.column).map((p) => `${p.line}:${p.column} ${p.message}`);

test("durations: number-unit pairs", (t) => {
  t.is(parseDuration("10m"), 600_000);
  t.is(parseDuration("30s"), 30_000);
  t.is(parseDuration("1s"), 1000);
  t.is(parseDuration("1h30m"), 5_400_000);
  t.is(parseDuration("500ms"), 500);
  t.is(parseDuration("1.5s"), 1500);
  t.is(parseDuration("0s"), 0);
  for (const bad of ["10", "m", "10 m", "-1s", "10x", "", "8d"]) t.true(typeof parseDuration(bad) === "object", bad);
  t.is(formatDuration(600_000), "10m");
  t.is(formatDuration(1500), "1.5s");
  t.is(formatDuration(5_400_000), "1h30m");
});

test("percentages: 0.01% to 100%, in basis points", (t) => {
  t.is(parsePercent("1%"), 100);
  t.is(parsePercent("12.5%"), 1250);
  t.is(parsePercent("0.01%"), 1);
  t.is(parsePercent("100%"), 10_000);
  for (const bad of ["0%", "101%", "1.234%", "%", "1", "-1%"]) t.true(typeof parsePercent(bad) === "object", bad);
});

test("rollout.yaml: the issue's example parses, a final everyone wave only when needed", (t) => {
  const r = parseRolloutFile("rollout.yaml", "waves: [1%, 10%, 50%, 100%]\nbake: 10m\napplyTimeout: 5m\nhalt: {failed: 1}\nonHalt: revert\n");
  t.deepEqual(r.problems, []);
  t.deepEqual(r.value, {
    waves: [
      { kind: "percent", text: "1%", basisPoints: 100 },
      { kind: "percent", text: "10%", basisPoints: 1000 },
      { kind: "percent", text: "50%", basisPoints: 5000 },
      { kind: "percent", text: "100%", basisPoints: 10_000 },
    ],
    bakeMs: 600_000,
    applyTimeoutMs: 300_000,
    halt: { failed: 1 },
    onHalt: "revert",
    source: "rollout.yaml",
  });
  const mixed = parseRolloutFile("rollout.yaml", "waves:\n  - {tags: {env: staging}, hostnames: [Canary-*]}\n  - {ips: [10.1.0.0/16, 10.2.0.1-20]}\n  - 25\n  - '100'\n  - 10%\nhalt: {failedPercent: 2.5}\n");
  t.deepEqual(mixed.problems, []);
  const waves = mixed.value?.waves ?? [];
  t.deepEqual(waves.map((w) => w.kind), ["select", "select", "count", "count", "percent", "all"]);
  t.deepEqual(waves[0], { kind: "select", text: "tags env=staging or hostnames canary-*", tags: [{ name: "env", value: "staging" }], ips: [], hostnames: ["canary-*"] });
  t.is(waves[5], FINAL_WAVE);
  t.deepEqual(mixed.value?.halt, { failedPercent: 2.5 });
  t.is(mixed.value?.bakeMs, POLICY_DEFAULTS.bakeMs);
  t.is(mixed.value?.onHalt, "pause");
});

test("rollout.yaml: every malformed field is reported at its line and column", (t) => {
  const text = [
    "waves: [1%, 0%, 5, 2, 10%, 5%, {tags: {}}, {ipz: []}, [1]]", // 1
    "bake: 10", // 2
    "applyTimeout: soon", // 3
    "halt: {failed: 0}", // 4
    "onHalt: rollback", // 5
    "wave: []", // 6
  ].join("\n");
  t.deepEqual(at(parseRolloutFile("rollout.yaml", text)), [
    '1:13 "0%" is not a percentage: a wave of 0% selects nobody',
    "1:20 waves are cumulative: 2 after 5 adds no agent (each count is of the whole fleet and must be larger than the one before)",
    "1:28 waves are cumulative: 5% after 10% adds no agent (each percentage is of the whole fleet and must be larger than the one before)",
    "1:39 a wave's tags is empty: name at least one tag",
    "1:44 an empty wave selector selects nobody: give it tags ({env: staging}) or ips ([10.1.0.0/16])",
    '1:45 unknown field "ipz" in a wave selector: a selector has tags ({env: staging}), ips ([10.1.0.0/16]) and/or hostnames ([web-*])',
    "1:55 a wave is a percentage (10%), a count of agents (25) or a selector ({tags: {env: staging}} or {ips: [10.1.0.0/16]}), not a list",
    "2:7 bake must be a duration with a unit, such as 30s, 10m or 1h (a bare number has no unit)",
    '3:15 applyTimeout: "soon" is not a duration: write a number and a unit, such as 30s, 10m, 1h30m (units: ms, s, m, h, d)',
    "4:16 halt failed is a whole number of agents from 1 (halt on the first failure), got 0",
    '5:9 onHalt must be revert (commit the previous content back) or pause (stop where it is), got "rollback"',
    '6:1 unknown field "wave" in rollout.yaml: allowed fields: waves, bake, applyTimeout, halt, onHalt',
  ]);
});

test("rollout.yaml: missing waves, an empty file, bad ips, nothing after 100%", (t) => {
  t.deepEqual(at(parseRolloutFile("rollout.yaml", "bake: 1s\n")), ["1:1 rollout.yaml needs waves: a list such as [1%, 10%, 50%, 100%] (percentages, counts such as 25, or selectors such as {tags: {env: staging}})"]);
  t.regex(at(parseRolloutFile("rollout.yaml", ""))[0] ?? "", /^1:1 rollout.yaml is empty/);
  t.regex(at(parseRolloutFile("rollout.yaml", "waves:\n  - ips: [10.1.2.3/16]\n"))[0] ?? "", /^2:11 "10\.1\.2\.3\/16" is not an IP selector: bits are set/);
  t.regex(at(parseRolloutFile("rollout.yaml", "waves: [100%, {tags: {a: b}}]\n"))[0] ?? "", /^1:15 wave 2 comes after 100%, which already reaches every agent/);
  t.regex(at(parseRolloutFile("rollout.yaml", "waves: [1%\n"))[0] ?? "", /YAML syntax error/);
  t.regex(at(parseRolloutFile("rollout.yaml", "- 1%\n"))[0] ?? "", /^1:1 rollout.yaml must be a mapping/);
  t.regex(at(parseRolloutFile("rollout.yaml", "waves: [1%]\nhalt: {failed: 1, failedPercent: 5}\n"))[0] ?? "", /^2:7 halt must be \{failed: N\}/);
  t.regex(at(parseRolloutFile("rollout.yaml", "waves: [1%]\nhalt: {failedPercent: 0}\n"))[0] ?? "", /^2:23 halt failedPercent is a number above 0/);
});

test("a config's rollout: key is its own policy; malformed, it is reported in the config file", (t) => {
  const ok = parseConfigFile("configs/a.yaml", "config_name: a\ncontent: x\nrollout:\n  waves: [10%]\n  bake: 1s\n");
  t.deepEqual(ok.problems, []);
  t.deepEqual(ok.value?.spec.rollout?.waves.map((w) => w.text), ["10%", "everyone else"]);
  t.is(ok.value?.spec.rollout?.source, "configs/a.yaml");
  const bad = parseConfigFile("configs/a.yaml", "config_name: a\ncontent: x\nrollout:\n  waves: [10%]\n  onHalt: stop\n");
  t.deepEqual(at(bad), ['5:11 onHalt must be revert (commit the previous content back) or pause (stop where it is), got "stop"']);
  t.deepEqual(at(parseConfigFile("configs/a.yaml", "config_name: a\ncontent: x\nrollout: 10%\n")), ['3:10 field "rollout" must be a mapping with the fields waves, bake, applyTimeout, halt, onHalt (waves is required), such as: waves: [1%, 10%, 100%]']);
});

test("rendering a config through the API keeps the file's rollout: as written", (t) => {
  const previous = "config_name: a\nagent_type: ilogtail\ndescription: d\ncontent: x\nrollout:\n  waves: [10%] # canary\n";
  const text = renderConfig({ name: "a", agentType: "ilogtail", description: "new", content: "y" }, previous);
  t.regex(text, /rollout:\n {2}waves: \[ 10% \] # canary|rollout:\n {2}waves: \[10%\] # canary/);
  t.is(parseConfigFile("configs/a.yaml", text).value?.spec.rollout?.waves[0]?.text, "10%");
});

test("group files: ips and hostnames parse, are checked at their line, and survive an API rewrite", (t) => {
  const g = parseGroupFile("agent_groups/web.yaml", "group_name: web\nips: [10.1.0.0/16, 192.168.1.200-230]\nhostnames: ['web-*']\nconfigs: []\n");
  t.deepEqual(g.problems, []);
  t.deepEqual(g.value?.spec.ips?.map((i) => i.text), ["10.1.0.0/16", "192.168.1.200-230"]);
  t.deepEqual(g.value?.spec.hostnames, ["web-*"]);
  t.deepEqual(at(parseGroupFile("agent_groups/web.yaml", "group_name: web\nips:\n  - 10.1.0.0/33\n  - 7\nhostnames: web-*\n")), [
    '3:5 "10.1.0.0/33" is not an IP selector: an IPv4 prefix length is 0 to 32',
    "4:5 each entry of ips must be an address, a range or a CIDR written as text (10.0.0.7, 10.0.0.1-10.0.0.254, 10.1.0.0/16)",
    '5:12 field "hostnames" must be a list of host names or patterns',
  ]);
  const spec = g.value?.spec;
  if (!spec) return t.fail();
  const text = renderGroup({ ...spec, description: "changed" }, "group_name: web\nips: [10.1.0.0/16, 192.168.1.200-230]\nhostnames: ['web-*']\nconfigs: []\n");
  t.deepEqual(parseGroupFile("agent_groups/web.yaml", text).value?.spec, { ...spec, description: "changed" });
});

test("the repository's content carries rollout.yaml; its problems count like any file's", (t) => {
  const files = new Map([
    ["configs/a.yaml", "config_name: a\ncontent: x\n"],
    ["rollout.yaml", "waves: [5%, 50%]\nbake: 1s\n"],
  ]);
  const c = readRepoContent(files, { maxConfigSize: 1 << 20, secrets: "warn" });
  t.deepEqual(c.problems, []);
  t.deepEqual(c.rollout?.waves.map((w) => w.text), ["5%", "50%", "everyone else"]);
  files.set("rollout.yaml", "waves: [5%, 50%]\nbake: 1\n");
  t.deepEqual(readRepoContent(files, { maxConfigSize: 1 << 20, secrets: "warn" }).problems.map((p) => `${p.file}:${p.line}:${p.column}`), ["rollout.yaml:2:7"]);
  files.delete("rollout.yaml");
  t.is(readRepoContent(files, { maxConfigSize: 1 << 20, secrets: "warn" }).rollout, undefined);
});
