import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import pino from "pino";
import { parse as parseYaml } from "yaml";
import type { Problem } from "../src/domain/types.ts";
import { runCli } from "./helpers/cli.ts";
import { git, tempDir } from "./helpers/git.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { configNames, configOf, statusOf } from "./helpers/observe.ts";

const template = fileURLToPath(new URL("../config-repo-template", import.meta.url));
const good = "config_name: ok\nagent_type: ilogtail\ndescription: fine\ncontent: |\n  enable: true\n";

function writeRepo(files: Record<string, string>): string {
  const dir = tempDir("cs-validate-");
  for (const [path, text] of Object.entries({ "configs/ok.yaml": good, ...files })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

interface Case {
  readonly files: Record<string, string>;
  /** "file:line:column" and a pattern of the message, in the order reported. */
  readonly expect: readonly [string, RegExp][];
}

const cases: Record<string, Case> = {
  "bad YAML (a duplicate key)": {
    files: { "configs/a1.yaml": "config_name: a1\ncontent: x\nconfig_name: a1\n" },
    expect: [["configs/a1.yaml:3:1", /YAML syntax error: Map keys must be unique \("config_name" appears twice/]],
  },
  "bad YAML (content not indented)": {
    files: { "configs/a2.yaml": "config_name: a2\ncontent: |\n  inputs:\n    - Type: input_file\nflushers:\n  - Type: flusher_stdout\n" },
    expect: [["configs/a2.yaml:5:1", /unknown field "flushers"/]],
  },
  "tabs": {
    files: { "configs/a3.yaml": "config_name: a3\ncontent: x\n\tagent_type: ilogtail\n" },
    expect: [["configs/a3.yaml:3:1", /YAML syntax error: .*indent with spaces, not tabs/]],
  },
  "missing fields": {
    files: { "configs/b.yaml": "config_name: b\nagent_type: ilogtail\n", "agent_groups/g.yaml": "description: no name\n" },
    expect: [
      ["agent_groups/g.yaml:1:1", /missing required field "group_name"/],
      ["configs/b.yaml:1:1", /missing required field "content": add a line "content: \|"/],
    ],
  },
  "file stem differs from the name": {
    files: { "configs/c.yaml": "config_name: c2\ncontent: x\n" },
    expect: [["configs/c.yaml:1:14", /config_name "c2" does not match the file name: rename the file to configs\/c2.yaml or set config_name: c/]],
  },
  "bad names": {
    files: { "configs/-bad.yaml": "config_name: -bad\ncontent: x\n", "agent_groups/a b.yaml": "group_name: a b\n" },
    expect: [
      ["agent_groups/a b.yaml:1:13", /Invalid agent group name "a b": a name must match/],
      ["configs/-bad.yaml:1:14", /Invalid config name "-bad": a name must match/],
    ],
  },
  "a group naming a missing config": {
    files: { "agent_groups/web.yaml": "group_name: web\ntags:\n  - name: role\n    value: web\nconfigs:\n  - ok\n  - nginx\n" },
    expect: [["agent_groups/web.yaml:7:5", /applies config "nginx", which does not exist: add configs\/nginx.yaml or remove the entry/]],
  },
  "duplicate entries and names": {
    files: {
      "agent_groups/web2.yaml": "group_name: web2\nconfigs:\n  - ok\n  - ok\n",
      "configs/ok2.yaml": "config_name: ok\ncontent: x\n",
    },
    expect: [
      ["agent_groups/web2.yaml:4:5", /config "ok" is listed twice in configs: remove one entry/],
      ["configs/ok2.yaml:1:14", /config_name "ok" does not match the file name/],
      ["configs/ok2.yaml:1:14", /duplicate config name "ok": also defined in configs\/ok.yaml/],
    ],
  },
  "unknown fields and wrong types": {
    files: { "configs/d.yaml": "config_name: d\ncontnet: x\ncontent: x\nagent_type: 3\n", "agent_groups/g2.yaml": "group_name: g2\ntags:\n  - name: env\n    value: 1\n" },
    expect: [
      ["agent_groups/g2.yaml:4:12", /tag value must be a string \(quote it/],
      ["configs/d.yaml:2:1", /unknown field "contnet": did you mean "content"\?/],
      ["configs/d.yaml:4:13", /field "agent_type" must be a string/],
    ],
  },
  "pipeline content that is not valid YAML: at the content's own line in a literal block": {
    files: { "configs/p1.yaml": "config_name: p1\ncontent: |\n  # a comment line\n\n  enable: true\n  inputs:\n    - Type: input_file\n      FilePaths: /var/log/*.log\n     Multiline: x\n" },
    expect: [["configs/p1.yaml:9:3", /^content: it starts like a pipeline \(a YAML or JSON mapping\) but is not valid YAML: .*add "format: text"/]],
  },
  "pipeline content in a quoted string: at the value, the content's line in the message": {
    files: { "configs/p2.yaml": 'config_name: p2\ncontent: "{\\"a\\": 1,\\n  \\"b\\" 2}"\n' },
    expect: [["configs/p2.yaml:2:10", /^content \(line 2, column 7 of the content\): .*not valid YAML: Missing , or : between flow map items/]],
  },
  "declared formats: json that is YAML, a mapping that is a list, an unknown format": {
    files: {
      "configs/p3.yaml": "config_name: p3\nformat: json\ncontent: |\n  enable: true\n",
      "configs/p4.yaml": "config_name: p4\nformat: yaml\ncontent: |\n  - a\n",
      "configs/p5.yaml": "config_name: p5\nformat: xml\ncontent: x\n",
      "instance_configs/i1.yaml": "config_name: i1\ncontent: |\n  max_bytes_per_sec: 1\n  max_bytes_per_sec: 2\n",
    },
    expect: [
      ["configs/p3.yaml:4:3", /^content: its file declares format: json but is not valid JSON: /],
      ["configs/p4.yaml:4:3", /^content: its file declares format: yaml but is not a mapping/],
      ["configs/p5.yaml:2:9", /field "format" must be one of yaml, json, text/],
      ["instance_configs/i1.yaml:4:3", /^content: .*not valid YAML: Map keys must be unique/],
    ],
  },
  "plain text passes, and text that only looks like a mapping with format: text": {
    files: {
      "configs/t1.yaml": "config_name: t1\ncontent: |\n  tail the logs\n  Note: see wiki: http://x\n",
      "configs/t2.yaml": "config_name: t2\nformat: text\ncontent: |\n  Note: see wiki: http://x\n",
    },
    expect: [],
  },
  "files that are not state files": {
    files: { "configs/e.yml": good.replace("ok", "e"), "configs/sub/f.yaml": good.replace("ok", "f") },
    expect: [
      ["configs/e.yml:1:1", /unexpected file in configs\/.*rename it to configs\/e.yaml/],
      ["configs/sub/f.yaml:1:1", /unexpected file in configs\/.*move it to configs\/f.yaml/],
    ],
  },
};

const at = (p: Problem) => `${p.file}:${p.line}:${p.column}`;

test("the template passes in every format", async (t) => {
  const json = await runCli(["validate", "--format", "json", template]);
  t.is(json.code, 0);
  t.like(JSON.parse(json.stdout), { ok: true, configs: 3, instanceConfigs: 1, groups: 3, problems: [], warnings: [] });
  const gh = await runCli(["validate", "--format", "github", template]);
  t.is(gh.code, 0);
  t.notRegex(gh.stdout, /::error/);
});

// Every case's files live in their own paths, so one repository holds all of them: one CLI run
// and one server start check every case (spawning the CLI is the slow part of these tests).
const allFiles = Object.assign({}, ...Object.values(cases).map((c) => c.files)) as Record<string, string>;

test("validate reports each crafted problem with file:line:column and a fix; the server refuses the same problems", async (t) => {
  const dir = writeRepo(allFiles);
  const json = await runCli(["validate", "--format", "json", dir]);
  t.is(json.code, 1, json.stderr);
  const report = JSON.parse(json.stdout) as { ok: boolean; problems: Problem[] };
  t.false(report.ok);
  for (const [name, c] of Object.entries(cases)) {
    const mine = report.problems.filter((p) => Object.hasOwn(c.files, p.file));
    t.deepEqual(mine.map(at), c.expect.map(([where]) => where), name);
    c.expect.forEach(([, pattern], i) => t.regex(mine[i]?.message ?? "", pattern, name));
  }
  t.is(report.problems.length, Object.values(cases).reduce((n, c) => n + c.expect.length, 0), "no other problem is reported");

  // The server, given the same files as a commit, refuses HEAD with the very same problems.
  git(dir, "init", "-q", "--initial-branch=main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "crafted");
  const server = await withServer(t, { repo: dir });
  const refused = await waitFor(async () => (await statusOf(server.url)).refused);
  t.deepEqual(refused.problems, report.problems);
  t.is((await statusOf(server.url)).configs, 0, "nothing of the refused commit is served");
});

test("the server serves the template that validate passes", async (t) => {
  const dir = tempDir("cs-template-");
  cpSync(template, dir, { recursive: true });
  git(dir, "init", "-q", "--initial-branch=main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "template");
  const server = await withServer(t, { repo: dir });
  t.is((await statusOf(server.url)).refused, null);
  t.deepEqual(await configNames(server.url), ["container-stdout", "java-app", "nginx-access"]);
  // The example instance config is bound in one group and goes to v2 agents as a JSON object.
  const limit = await configOf(server.url, "node-send-limit", "instance");
  t.deepEqual(limit?.groups, ["k8s-nodes"]);
  t.is(limit?.notForV2, null);
  t.deepEqual(parseYaml(limit?.content ?? "null"), { max_bytes_per_sec: 20971520 });
  t.deepEqual((await statusOf(server.url)).notForV2, [], "every template config reaches v2 agents");
});

test("text and GitHub formats report the same problems at the same places, paths relative to where validate runs", async (t) => {
  const dir = writeRepo(cases["unknown fields and wrong types"]?.files ?? {});
  const [json, text, gh] = await Promise.all([
    runCli(["validate", "--format", "json", dir]),
    runCli(["validate"], { cwd: dir }),
    runCli(["validate", "--format", "github"], { cwd: dir }),
  ]);
  const report = JSON.parse(json.stdout) as { problems: Problem[] };
  t.is(report.problems.length, 3);
  t.is(text.code, 1);
  t.is(text.stdout, report.problems.map((p) => `${at(p)}: error: ${p.message}\n`).join("") + "3 problem(s) found: the server would refuse to serve this and keep the last good commit\n");
  t.is(gh.code, 1);
  const annotations = gh.stdout.split("\n").filter((l) => l.startsWith("::error "));
  t.deepEqual(
    annotations.map((l) => /^::error file=([^,]+),line=(\d+),col=(\d+),title=[^:]+::(.*)$/.exec(l)?.slice(1).join(":")),
    report.problems.map((p) => `${at(p)}:${p.message}`),
  );
});

test("text output from another folder prefixes paths so editors can open them", async (t) => {
  const dir = writeRepo({ "configs/x.yaml": "config_name: y\ncontent: x\n" });
  const r = await runCli(["validate", basename(dir)], { cwd: dirname(dir) });
  t.is(r.code, 1);
  t.regex(r.stdout, new RegExp(`^${basename(dir)}/configs/x.yaml:1:14: error: config_name "y" does not match`));
});

test("content that is not a mapping is a warning in every format, naming the config and saying v2 agents will not receive it; the exit code stays 0", async (t) => {
  const dir = writeRepo({
    "configs/plain.yaml": "config_name: plain\ndescription: text only\ncontent: just some text\n",
    "instance_configs/limits.yaml": 'config_name: limits\ndescription: ""\ncontent: |\n  cpu_usage_limit: 0.4\n',
    "instance_configs/raw.yaml": 'config_name: raw\ndescription: ""\ncontent: |\n  - a list\n',
    "agent_groups/default.yaml": "group_name: default\nconfigs: [ok, plain]\ninstance_configs: [limits, raw]\n",
  });
  const [json, text, gh] = await Promise.all([
    runCli(["validate", "--format", "json", dir]),
    runCli(["validate"], { cwd: dir }),
    runCli(["validate", "--format", "github"], { cwd: dir }),
  ]);
  t.is(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { ok: boolean; configs: number; instanceConfigs: number; groups: number; problems: Problem[]; warnings: Problem[] };
  t.like(report, { ok: true, configs: 2, instanceConfigs: 2, groups: 1, problems: [] });
  t.deepEqual(report.warnings.map(at), ["configs/plain.yaml:3:10", "instance_configs/raw.yaml:3:10"]);
  t.regex(report.warnings[0]?.message ?? "", /^config "plain" will not be sent to v2 agents: the content is not a YAML or JSON mapping .*alpha and v1 agents still receive it/);
  t.regex(report.warnings[1]?.message ?? "", /^instance config "raw" will not be sent to v2 agents: the content is not a YAML or JSON mapping/);

  t.is(text.code, 0);
  t.is(text.stdout, report.warnings.map((w) => `${at(w)}: warning: ${w.message}\n`).join("") + "ok: 2 config(s), 2 instance config(s), 1 agent group(s); 2 warning(s)\n");
  t.is(gh.code, 0);
  t.notRegex(gh.stdout, /::error/);
  t.deepEqual(
    gh.stdout.split("\n").filter((l) => l.startsWith("::warning ")).map((l) => /^::warning file=([^,]+),line=(\d+),col=(\d+),title=[^:]+::(.*)$/.exec(l)?.slice(1).join(":")),
    report.warnings.map((w) => `${at(w)}:${w.message}`),
  );

  // The server, serving the same files, holds back the very configs validate warned about.
  git(dir, "init", "-q", "--initial-branch=main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "warned");
  const server = await withServer(t, { repo: dir });
  const status = (await (await fetch(`${server.url}/status`)).json()) as { notForV2: { name: string; kind: string }[] };
  t.deepEqual(status.notForV2.map((c) => `${c.kind}:${c.name}`), ["pipeline:plain", "instance:raw"]);
});

test("warnings are listed after the problems and do not hide them; a config in a misnamed file is warned about in that file", async (t) => {
  const dir = writeRepo({ "configs/plain.yaml": "config_name: plain\ncontent: text\n", "configs/x.yaml": "config_name: y\ncontent: x\n" });
  const r = await runCli(["validate"], { cwd: dir });
  t.is(r.code, 1);
  const lines = r.stdout.split("\n");
  t.regex(lines[0] ?? "", /^configs\/x.yaml:1:14: error: config_name "y" does not match/);
  t.regex(lines[1] ?? "", /^configs\/plain.yaml:2:10: warning: config "plain" will not be sent to v2 agents/);
  t.regex(lines[2] ?? "", /^configs\/x.yaml:2:10: warning: config "y" will not be sent to v2 agents/);
  t.regex(lines[3] ?? "", /^1 problem\(s\) found: .*; 2 warning\(s\)$/);
});

test("the server's log and its API name a refused commit's problems with the very lines validate prints", async (t) => {
  const dir = writeRepo({ "configs/x.yaml": "config_name: y\ncontent: x\n", "agent_groups/g.yaml": "description: no name\n" });
  const text = await runCli(["validate"], { cwd: dir });
  t.is(text.code, 1);
  const lines = text.stdout.split("\n").filter((l) => /: error: /.test(l));
  t.is(lines.length, 2);
  git(dir, "init", "-q", "--initial-branch=main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "crafted");
  const logs: { msg: string; problems?: string[] }[] = [];
  const server = await withServer(t, { repo: dir, logger: pino({ level: "info" }, { write: (l: string) => void logs.push(JSON.parse(l) as { msg: string }) }) });
  const logged = await waitFor(() => logs.find((l) => l.msg.startsWith("commit failed validation")));
  t.deepEqual(logged.problems, lines);
  const write = await server.api.createConfig({ config_detail: { config_name: "z", content: "x\n" } });
  t.true(write.body.message.includes(`first: ${lines[0]})`), write.body.message);
});
