import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { callJson } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { commitFiles } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { configOf, servedCommit, statusOf, waitForCommit } from "./helpers/observe.ts";

const head = (repo: string) => git(repo, "rev-parse", "HEAD").trim();
const cfg = (name: string, content: string) => ({ config_detail: { config_name: name, agent_type: "ilogtail", content } });

test("CreateConfig and UpdateConfig refuse pipeline content that does not parse: 400 InvalidParameter with the content's line and column, nothing written", async (t) => {
  const s = await withServer(t);
  t.is((await s.api.createConfig(cfg("base", "enable: true\n"))).body.code, "Accept");
  const before = head(s.repo);

  const created = await s.api.createConfig(cfg("broken", "{{{not yaml: ["));
  t.is(created.status, 400);
  t.is(created.body.code, "InvalidParameter");
  t.regex(created.body.message, /^Invalid content of config broken: line 1, column 15 of the content: it starts like a pipeline \(a YAML or JSON mapping\) but is not valid YAML: /);
  t.regex(created.body.message, /declare format: text in configs\/broken\.yaml/);

  const json = await callJson(s.url, "POST", "/User/CreateConfig", { configDetail: { configName: "broken", content: "inputs:\n  - Type: input_file\n\t- bad\n" } });
  t.is(json.status, 400);
  t.is(json.body.code, "InvalidParameter");
  t.regex(String(json.body.message), /line 3, column 1 of the content: .*not valid YAML: Tabs are not allowed as indentation/);

  const updated = await s.api.updateConfig(cfg("base", "enable: true\ninputs: [\n"));
  t.is(updated.status, 400);
  t.is(updated.body.code, "InvalidParameter");
  t.regex(updated.body.message, /^Invalid content of config base: line 3, column 1 of the content: /);

  t.is(head(s.repo), before, "no commit");
  t.deepEqual(git(s.repo, "status", "--porcelain", "--untracked-files=all"), "", "no file written");
  t.is((await configOf(s.url, "base"))?.content, "enable: true\n");
});

test("plain text content stays accepted (alpha agents take content as text); JSON objects and YAML mappings pass", async (t) => {
  const s = await withServer(t);
  const contents = ["hello world", "tail the logs\nNote: see wiki: http://x\n", "[1, 2", "- a\n- b\n", "# only a comment\n", '{"inputs": [{"Type": "input_file"}]}', "{a: 1, b: [2]}", "---\nenable: true\n"];
  for (const [i, content] of contents.entries()) {
    const r = await s.api.createConfig(cfg(`c${i}`, content));
    t.is(r.body.code, "Accept", JSON.stringify(content));
    t.is((await configOf(s.url, `c${i}`))?.content, content);
  }
});

test("a file's declared format decides the check, and an update through the API keeps it", async (t) => {
  const s = await withServer(t);
  commitFiles(s.repo, {
    "configs/notes.yaml": "config_name: notes\nagent_type: ilogtail\ndescription: ''\nformat: text\ncontent: |\n  plain\n",
    "configs/strict.yaml": "config_name: strict\nagent_type: ilogtail\ndescription: ''\nformat: json\ncontent: '{}'\n",
  });
  const h = head(s.repo);
  await waitForCommit(s.url, h);

  const text = await s.api.updateConfig(cfg("notes", "Note: see wiki: http://x\n"));
  t.is(text.body.code, "Accept", text.body.message);
  t.regex(readFileSync(join(s.repo, "configs/notes.yaml"), "utf8"), /^format: text$/m);
  t.is((await configOf(s.url, "notes"))?.format, "text");

  const yaml = await s.api.updateConfig(cfg("strict", "enable: true\n"));
  t.is(yaml.status, 400);
  t.regex(yaml.body.message, /^Invalid content of config strict: line 1, column 1 of the content: its file declares format: json but is not valid JSON: /);
  const ok = await s.api.updateConfig(cfg("strict", '{"enable": true}'));
  t.is(ok.body.code, "Accept");
  t.regex(readFileSync(join(s.repo, "configs/strict.yaml"), "utf8"), /^format: json$/m);
});

test("a person's commit with broken pipeline content is not served; rolling back to it is refused", async (t) => {
  const s = await withServer(t);
  t.is((await s.api.createConfig(cfg("app", "enable: true\n"))).body.code, "Accept");
  const good = head(s.repo);
  const bad = commitFiles(s.repo, { "configs/app.yaml": "config_name: app\nagent_type: ilogtail\ndescription: ''\ncontent: |\n  enable: true\n  inputs: [\n" });
  const refused = await waitFor(async () => (await statusOf(s.url)).refused);
  t.is(refused.commit, bad);
  t.regex(refused.problems[0]?.message ?? "", /^content: .*not valid YAML/);
  t.is(await servedCommit(s.url), good, "the previous commit is still served");

  // Fixed by a later commit: the broken version stays in history, and cannot be restored.
  const fixed = commitFiles(s.repo, { "configs/app.yaml": "config_name: app\nagent_type: ilogtail\ndescription: ''\ncontent: |\n  enable: false\n" });
  await waitForCommit(s.url, fixed);
  const history = await callJson(s.url, "GET", "/api/v1/configs/app/history");
  const versions = (history.body.versions as { version: number; commit: string }[]).filter((v) => v.commit === bad);
  t.is(versions.length, 1);
  const r = await callJson(s.url, "POST", "/api/v1/configs/app/rollback", { version: versions[0]?.version });
  t.is(r.status, 400);
  t.is(r.body.code, "InvalidParameter");
  t.regex(String(r.body.message), /^Version \d+ cannot be restored: Invalid content of config app: line 3, column 1 of the content: /);
  t.is(head(s.repo), fixed, "no commit");
});
