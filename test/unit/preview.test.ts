import test from "ava";
import { diffLines, unifiedDiff } from "../../src/domain/lineDiff.ts";
import { diffRepoContent } from "../../src/domain/changeSet.ts";
import { renderPreview } from "../../src/domain/preview.ts";
import type { ConfigSpec, GroupSpec, InstanceConfigSpec } from "../../src/domain/types.ts";

const cfg = (name: string, content: string, extra: Partial<ConfigSpec> = {}): ConfigSpec => ({ name, agentType: "ilogtail", description: "", content, ...extra });
const grp = (name: string, configs: string[], tags = [{ name: "role", value: name }]): GroupSpec => ({ name, description: "", tags, configs });

test("diffLines keeps common lines and marks the changed ones", (t) => {
  const d = diffLines("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n");
  t.deepEqual(d.map((x) => x.op + x.text), [" a", "-b", "+B", " c", " d", "+e"]);
});

test("unifiedDiff writes hunk headers with line numbers and truncates long diffs", (t) => {
  const before = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
  const after = before.replace("line 15\n", "line fifteen\n");
  const d = unifiedDiff(before, after);
  t.is(d.text, "@@ -12,7 +12,7 @@\n line 12\n line 13\n line 14\n-line 15\n+line fifteen\n line 16\n line 17\n line 18\n");
  t.is(d.added, 1);
  t.is(d.removed, 1);
  const long = unifiedDiff("", before, { maxLines: 5 });
  t.is(long.text.split("\n").length - 1, 5);
  t.is(long.omitted, 31 - 5);
});

test("unifiedDiff of equal texts is empty", (t) => {
  t.is(unifiedDiff("x\n", "x\n").text, "");
});

const base = {
  configs: [cfg("nginx", "a: 1\n"), cfg("java", "j: 1\n"), cfg("old", "o: 1\n"), cfg("same", "s: 1\n")],
  groups: [grp("web", ["nginx", "old"]), grp("apps", ["java"]), grp("gone", [])],
};
const head = {
  configs: [cfg("nginx", "a: 2\n"), cfg("java", "j: 1\n", { description: "now described" }), cfg("new", "n: 1\n"), cfg("same", "s: 1\n")],
  groups: [grp("web", ["new", "nginx"]), grp("apps", ["java"], [{ name: "lang", value: "java" }]), grp("default", ["same"])],
};

test("diffRepoContent lists exactly the added, changed and removed configs with the groups they reach", (t) => {
  const c = diffRepoContent(base, head);
  t.deepEqual(
    c.configs.map((x) => [x.name, x.kind, x.fields.join(","), x.reach.map((g) => g.name).join(",")]),
    [
      ["java", "changed", "description", "apps"],
      ["new", "added", "", "web"],
      ["nginx", "changed", "content", "web"],
      ["old", "removed", "", "web"],
    ],
  );
});

test("diffRepoContent lists groups that gain or lose configs or change tags; default is implicit on both sides", (t) => {
  const c = diffRepoContent(base, head);
  t.deepEqual(
    c.groups.map((g) => [g.name, g.kind, g.gained.join(","), g.lost.join(","), g.tagsChanged]),
    [
      ["apps", "changed", "", "", true],
      ["default", "changed", "same", "", false],
      ["gone", "removed", "", "", true],
      ["web", "changed", "new", "old", false],
    ],
  );
});

test("a config file that is present but fails to parse is not reported as removed", (t) => {
  const c = diffRepoContent(base, { ...head, configs: head.configs.filter((x) => x.name !== "nginx"), files: new Set(["configs/nginx.yaml"]) });
  t.is(c.configs.find((x) => x.name === "nginx")?.kind, "unparsable");
});

test("identical sides give an empty change set", (t) => {
  t.deepEqual(diffRepoContent(base, base), { configs: [], instanceConfigs: [], groups: [] });
});

test("renderPreview: tables, tag selectors, a diff per changed config, validation verdict", (t) => {
  const md = renderPreview(diffRepoContent(base, head), { baseLabel: "main", headLabel: "working tree", problems: [], counts: { configs: 4, groups: 3 } });
  t.true(md.startsWith("## configserver change preview\n"));
  t.regex(md, /configs 1 added, 2 changed, 1 removed; 4 agent group\(s\) changed/);
  t.regex(md, /\| `nginx` \| changed: content \| `web` \(`role=web`\) \|/);
  t.regex(md, /\| `old` \| removed \| was in `web` \(`role=web`\): those agents drop it \|/);
  t.regex(md, /\| `default` \| changed: configs \| all agents \| `same` \| — \|/);
  t.regex(md, /\| `apps` \| changed: tags \| `role=apps` → `lang=java` \|/);
  t.regex(md, /```diff\n@@ -1,1 \+1,1 @@\n-a: 1\n\+a: 2\n```/);
  t.regex(md, /Validation passed: 4 config\(s\), 3 agent group\(s\)\./);
});

test("renderPreview names each problem and says the server would refuse the commit", (t) => {
  const md = renderPreview({ configs: [], instanceConfigs: [], groups: [] }, { baseLabel: "a", headLabel: "b", problems: [{ file: "configs/x.yaml", line: 3, column: 7, message: "bad | thing" }] });
  t.regex(md, /Validation failed: 1 problem\(s\)/);
  t.regex(md, /`configs\/x.yaml:3:7` bad \\\| thing/);
  t.regex(md, /No config, instance config or agent group changes/);
});

test("renderPreview fences content containing backticks with a longer fence", (t) => {
  const md = renderPreview(diffRepoContent({ configs: [], groups: [] }, { configs: [cfg("x", "a: ```\n")], groups: [] }), { baseLabel: "a", headLabel: "b", problems: [] });
  t.regex(md, /````diff\n@@ -0,0 \+1,1 @@\n\+a: ```\n````/);
  t.regex(md, /\*no group applies it: no agent receives it\*/);
});

const inst = (name: string, content: string, description = ""): InstanceConfigSpec => ({ name, description, content });
const withInstances = (g: GroupSpec, instanceConfigs: string[]): GroupSpec => ({ ...g, instanceConfigs });
const instanceBase = {
  configs: [cfg("nginx", "a: 1\n")],
  instanceConfigs: [inst("limits", "cpu: 0.4\n"), inst("old-limits", "cpu: 1\n"), inst("same", "s: 1\n")],
  groups: [withInstances(grp("web", ["nginx"]), ["limits", "old-limits"]), withInstances(grp("db", []), ["same"])],
};
const instanceHead = {
  configs: [cfg("nginx", "a: 1\n")],
  instanceConfigs: [inst("limits", "cpu: 0.5\n"), inst("flush", "flush: true\n"), inst("same", "s: 1\n", "described")],
  groups: [withInstances(grp("web", ["nginx"]), ["flush", "limits"]), grp("db", [])],
};

test("diffRepoContent lists instance configs added, changed and removed with the groups they reach, apart from configs", (t) => {
  const c = diffRepoContent(instanceBase, instanceHead);
  t.deepEqual(c.configs, []);
  t.deepEqual(
    c.instanceConfigs.map((x) => [x.name, x.kind, x.fields.join(","), x.reach.map((g) => g.name).join(",")]),
    [
      ["flush", "added", "", "web"],
      ["limits", "changed", "content", "web"],
      ["old-limits", "removed", "", "web"],
      ["same", "changed", "description", ""],
    ],
  );
  t.deepEqual(
    c.groups.map((g) => [g.name, g.kind, g.gained.join(","), g.lost.join(","), g.instanceGained.join(","), g.instanceLost.join(",")]),
    [
      ["db", "changed", "", "", "", "same"],
      ["web", "changed", "", "", "flush", "old-limits"],
    ],
  );
});

test("an instance config file that is present but fails to parse is not reported as removed; a group whose file fails keeps its instance configs", (t) => {
  const head = { ...instanceHead, instanceConfigs: [], groups: [], files: new Set(["instance_configs/limits.yaml", "agent_groups/web.yaml"]) };
  const c = diffRepoContent(instanceBase, head);
  t.is(c.instanceConfigs.find((x) => x.name === "limits")?.kind, "unparsable");
  t.is(c.instanceConfigs.find((x) => x.name === "old-limits")?.kind, "removed");
  const web = c.groups.find((g) => g.name === "web");
  t.is(web?.kind, "unparsable");
  t.deepEqual([web?.instanceGained, web?.instanceLost], [[], []]);
});

test("renderPreview: an instance configs section with diffs, instance columns in the groups table, counts and warnings", (t) => {
  const md = renderPreview(diffRepoContent(instanceBase, instanceHead), {
    baseLabel: "main",
    headLabel: "HEAD",
    problems: [],
    warnings: [{ file: "instance_configs/flush.yaml", line: 3, column: 10, message: 'instance config "flush" will not be sent to v2 agents' }],
    counts: { configs: 1, instanceConfigs: 3, groups: 2 },
  });
  t.regex(md, /: configs 0 added, 0 changed, 0 removed; instance configs 1 added, 2 changed, 1 removed; 2 agent group\(s\) changed\./);
  t.regex(md, /Validation passed: 1 config\(s\), 3 instance config\(s\), 2 agent group\(s\)\./);
  t.regex(md, /> \[!WARNING\]\n> \*\*1 warning\(s\)\.\*\* .*\n> - `instance_configs\/flush.yaml:3:10` instance config "flush" will not be sent to v2 agents\n/);
  t.notRegex(md, /### Configs/);
  t.regex(md, /### Instance configs\n\n.*only v2 agents.*\n\n\| Instance config \| Change \| Reaches agents in \|/);
  t.regex(md, /\| `limits` \| changed: content \| `web` \(`role=web`\) \|/);
  t.regex(md, /\| `old-limits` \| removed \| was in `web` \(`role=web`\): those agents drop it \|/);
  t.regex(md, /\| `same` \| changed: description \| \*no group applies it: no agent receives it\* \|/);
  t.regex(md, /<summary>limits: content diff \(\+1 −1\)<\/summary>\n\n```diff\n@@ -1,1 \+1,1 @@\n-cpu: 0.4\n\+cpu: 0.5\n```/);
  t.regex(md, /- description: "" → `described`/);
  t.regex(md, /\| Group \| Change \| Selects agents with \| Configs gained \| Configs lost \| Instance configs gained \| Instance configs lost \|\n\|---\|---\|---\|---\|---\|---\|---\|/);
  t.regex(md, /\| `web` \| changed: instance configs \| `role=web` \| — \| — \| `flush` \| `old-limits` \|/);
});

test("renderPreview keeps the groups table narrow when no instance config moves", (t) => {
  const md = renderPreview(diffRepoContent(base, head), { baseLabel: "a", headLabel: "b", problems: [] });
  t.regex(md, /\| Group \| Change \| Selects agents with \| Configs gained \| Configs lost \|\n\|---\|---\|---\|---\|---\|\n/);
  t.notRegex(md, /Instance config/);
});
