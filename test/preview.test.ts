import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { initRepository } from "../src/commands/initRepository.ts";
import type { ChangeSet } from "../src/domain/changeSet.ts";
import { runCli } from "./helpers/cli.ts";
import { git, tempDir } from "./helpers/git.ts";

/** Commit 1: the template. Commit 2: one config changed, one added, one removed, groups edited. */
async function twoCommitFixture(): Promise<string> {
  const dir = join(tempDir("cs-preview-"), "repo");
  await initRepository(dir);
  const nginx = join(dir, "configs/nginx-access.yaml");
  writeFileSync(nginx, readFileSync(nginx, "utf8").replace("OnlyStdout: true", "OnlyStdout: false"));
  writeFileSync(join(dir, "configs/audit.yaml"), "config_name: audit\nagent_type: ilogtail\ndescription: audit log\ncontent: |\n  inputs:\n    - Type: input_file\n      FilePaths: [/var/log/audit/audit.log]\n");
  rmSync(join(dir, "configs/container-stdout.yaml"));
  writeFileSync(join(dir, "agent_groups/k8s-nodes.yaml"), "group_name: k8s-nodes\ndescription: nodes\ntags:\n  - name: platform\n    value: kubernetes\nconfigs:\n  - audit\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "Audit logs instead of container stdout");
  return dir;
}

test("the preview of a two-commit fixture lists exactly the added, changed and removed configs and the affected groups", async (t) => {
  const dir = await twoCommitFixture();
  const r = await runCli(["validate", "--format", "json", "--base", "HEAD~1", "--head", "HEAD", dir]);
  t.is(r.code, 0, r.stderr);
  const { preview } = JSON.parse(r.stdout) as { preview: { markdown: string; changes: ChangeSet } };
  t.deepEqual(
    preview.changes.configs.map((c) => [c.name, c.kind, c.fields.join(","), c.reach.map((g) => `${g.name}:${g.tags.map((x) => `${x.name}=${x.value}`).join("|")}`).join(" ")]),
    [
      ["audit", "added", "", "k8s-nodes:platform=kubernetes"],
      ["container-stdout", "removed", "", "k8s-nodes:platform=kubernetes"],
      ["nginx-access", "changed", "content", "web:role=web"],
    ],
  );
  t.deepEqual(preview.changes.groups.map((g) => [g.name, g.kind, g.gained.join(","), g.lost.join(",")]), [["k8s-nodes", "changed", "audit", "container-stdout"]]);
  t.regex(preview.markdown, /\n-    OnlyStdout: true\n\+    OnlyStdout: false\n/);
});

test("the preview of the working tree goes to --preview-file while stdout keeps the validation report", async (t) => {
  const dir = await twoCommitFixture();
  writeFileSync(join(dir, "agent_groups/default.yaml"), "group_name: default\nconfigs:\n  - audit\n  - missing\n");
  const file = join(dir, "..", "preview.md");
  const r = await runCli(["validate", "--base", "HEAD", "--preview-file", file, dir]);
  t.is(r.code, 1);
  t.regex(r.stdout, /agent_groups\/default.yaml:4:5: error: agent group "default" applies config "missing", which does not exist/);
  t.notRegex(r.stdout, /change preview/);
  const md = readFileSync(file, "utf8");
  t.regex(md, /`HEAD \([0-9a-f]{12}\)` → `working tree`/);
  t.regex(md, /Validation failed: 1 problem\(s\)/);
  t.regex(md, /\| `default` \| changed: configs \| all agents \| `audit`, `missing` \| — \|/);
});

test("an unknown base revision is a clear error, and exit 2 (could not check), not 1 (has problems)", async (t) => {
  const dir = await twoCommitFixture();
  const r = await runCli(["validate", "--base", "no-such-branch", dir]);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown revision "no-such-branch".*fetch it first/);
});

test("the preview lists instance configs added, changed and removed, and groups gaining or losing them, in their own section and columns", async (t) => {
  const dir = join(tempDir("cs-preview-"), "repo");
  await initRepository(dir);
  const instance = (name: string, content: string) => `config_name: ${name}\ndescription: ""\ncontent: |\n${content.replace(/^/gm, "  ")}`;
  const files = (f: Record<string, string>) => {
    for (const [path, text] of Object.entries(f)) writeFileSync(join(dir, path), text);
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "instance configs");
  };
  mkdirSync(join(dir, "instance_configs"), { recursive: true });
  files({
    "instance_configs/limits.yaml": instance("limits", "cpu_usage_limit: 0.4\n"),
    "instance_configs/old.yaml": instance("old", "mem_usage_limit: 384\n"),
    "agent_groups/web.yaml": "group_name: web\ntags:\n  - name: role\n    value: web\nconfigs: [nginx-access]\ninstance_configs: [limits, old]\n",
  });
  rmSync(join(dir, "instance_configs/old.yaml"));
  files({
    "instance_configs/limits.yaml": instance("limits", "cpu_usage_limit: 0.8\n"),
    "instance_configs/flush.yaml": instance("flush", "- not a mapping\n"),
    "agent_groups/web.yaml": "group_name: web\ntags:\n  - name: role\n    value: web\nconfigs: [nginx-access]\ninstance_configs: [flush, limits]\n",
  });
  const r = await runCli(["validate", "--format", "json", "--base", "HEAD~1", "--head", "HEAD", dir]);
  t.is(r.code, 0, r.stderr);
  const { preview, warnings } = JSON.parse(r.stdout) as { preview: { markdown: string; changes: ChangeSet }; warnings: { file: string }[] };
  t.deepEqual(preview.changes.configs, []);
  t.deepEqual(
    preview.changes.instanceConfigs.map((c) => [c.name, c.kind, c.fields.join(","), c.reach.map((g) => g.name).join(",")]),
    [
      ["flush", "added", "", "web"],
      ["limits", "changed", "content", "web"],
      ["old", "removed", "", "web"],
    ],
  );
  t.deepEqual(preview.changes.groups.map((g) => [g.name, g.kind, g.instanceGained.join(","), g.instanceLost.join(",")]), [["web", "changed", "flush", "old"]]);
  t.regex(preview.markdown, /### Instance configs\n/);
  t.regex(preview.markdown, /\n-cpu_usage_limit: 0.4\n\+cpu_usage_limit: 0.8\n/);
  t.regex(preview.markdown, /\| `web` \| changed: instance configs \| `role=web` \| — \| — \| `flush` \| `old` \|/);
  t.deepEqual(warnings.map((w) => w.file), ["instance_configs/flush.yaml"]);
  t.regex(preview.markdown, /\[!WARNING\][^]*`instance_configs\/flush.yaml:3:10` instance config "flush" will not be sent to v2 agents/);
});
