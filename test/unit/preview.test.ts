import test from "ava";
import { diffLines, unifiedDiff } from "../../src/domain/lineDiff.ts";
import { diffRepoContent, renderPreview } from "../../src/domain/preview.ts";
import type { ConfigSpec, GroupSpec } from "../../src/domain/types.ts";

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
  t.deepEqual(diffRepoContent(base, base), { configs: [], groups: [] });
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
  const md = renderPreview({ configs: [], groups: [] }, { baseLabel: "a", headLabel: "b", problems: [{ file: "configs/x.yaml", line: 3, column: 7, message: "bad | thing" }] });
  t.regex(md, /Validation failed: 1 problem\(s\)/);
  t.regex(md, /`configs\/x.yaml:3:7` bad \\\| thing/);
  t.regex(md, /No config or agent group changes/);
});

test("renderPreview fences content containing backticks with a longer fence", (t) => {
  const md = renderPreview(diffRepoContent({ configs: [], groups: [] }, { configs: [cfg("x", "a: ```\n")], groups: [] }), { baseLabel: "a", headLabel: "b", problems: [] });
  t.regex(md, /````diff\n@@ -0,0 \+1,1 @@\n\+a: ```\n````/);
  t.regex(md, /\*no group applies it: no agent receives it\*/);
});
