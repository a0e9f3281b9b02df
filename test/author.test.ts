import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { callJson, pb, send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { withServer } from "./helpers/server.ts";
import { tempDir } from "./helpers/git.ts";
import { configOf, statusOf } from "./helpers/observe.ts";

const SERVER = { name: "Ops Server", email: "ops@example.com" };
const ANN = "Ann Example <ann@example.com>";
/** author | author email | committer | committer email | subject | body of HEAD. */
const last = (repo: string) => git(repo, "log", "-1", "--format=%an|%ae|%cn|%ce|%s|%b").trim();
const head = (repo: string) => git(repo, "rev-parse", "HEAD").trim();
const create = (name: string) => pb.CreateConfigRequest.encode({ config_detail: { config_name: name, content: "enable: true\n" } }).finish();
const PROTOBUF = { "content-type": "application/x-protobuf" };

test("a User API write names its author and message in headers: the commit's author and subject, the server its committer; the history shows them", async (t) => {
  const s = await withServer(t, { author: SERVER });
  // A repository's first commit is left to git; the in-process writer takes the later ones.
  t.is((await s.api.createGroup({ agent_group: { group_name: "first" } })).body.code, "Accept");
  const r = await send(s.url, "POST", "/User/CreateConfig", create("app"), { ...PROTOBUF, "x-configserver-author": ANN, "x-configserver-message": "Collect app logs for incident 42" });
  t.is(pb.CreateConfigResponse.decode(r.body).code, "Accept");
  t.is(last(s.repo), "Ann Example|ann@example.com|Ops Server|ops@example.com|Collect app logs for incident 42|Create config app");
  t.is((await statusOf(s.url)).writer.mode, "in-process");

  // JSON, on another route, author only: the plan's message is the subject.
  const apply = await send(s.url, "PUT", "/User/ApplyConfigToAgentGroup", JSON.stringify({ groupName: "default", configName: "app" }), { "content-type": "application/json", "x-configserver-author": "Bob <bob@example.com>" });
  t.is(apply.status, 200);
  t.is(last(s.repo), "Bob|bob@example.com|Ops Server|ops@example.com|Apply config app to agent group default|");

  // No headers: the configured identity is author and committer.
  t.is((await s.api.updateConfig({ config_detail: { config_name: "app", content: "enable: false\n" } })).body.code, "Accept");
  t.is(last(s.repo), "Ops Server|ops@example.com|Ops Server|ops@example.com|Update config app|");

  const history = await callJson(s.url, "GET", "/api/v1/configs/app/history");
  const versions = history.body.versions as Record<string, unknown>[];
  t.like(versions[1], { author: "Ann Example", authorEmail: "ann@example.com", commitMessage: "Collect app logs for incident 42", action: "created" });
  t.like(versions[0], { author: "Ops Server", commitMessage: "Update config app" });
  const cli = await runCli(["history", "app", "--repo", s.repo]);
  t.regex(cli.stdout, /Ann Example +Collect app logs for incident 42\n$/);
});

test("names are read as UTF-8, and the git CLI writer (taken when .git/info/attributes exists) records the same author", async (t) => {
  const s = await withServer(t, { author: SERVER });
  t.is((await s.api.createConfig({ config_detail: { config_name: "base", content: "x" } })).body.code, "Accept");
  mkdirSync(join(s.repo, ".git", "info"), { recursive: true });
  writeFileSync(join(s.repo, ".git", "info", "attributes"), "*.md text\n");
  // Node sends header text as latin1 bytes: this is how UTF-8 "José Müller" goes on the wire.
  const utf8 = Buffer.from("José Müller <jm@example.com>", "utf8").toString("latin1");
  const r = await send(s.url, "POST", "/User/CreateConfig", create("app"), { ...PROTOBUF, "x-configserver-author": utf8, "x-configserver-message": Buffer.from("Überwachung der App", "utf8").toString("latin1") });
  t.is(pb.CreateConfigResponse.decode(r.body).code, "Accept");
  t.is((await statusOf(s.url)).writer.mode, "git");
  t.is(last(s.repo), "José Müller|jm@example.com|Ops Server|ops@example.com|Überwachung der App|Create config app");
});

test("a malformed author or message is 400 InvalidParameter naming the header; nothing is committed; reads ignore the headers", async (t) => {
  const s = await withServer(t);
  t.is((await s.api.createConfig({ config_detail: { config_name: "base", content: "x" } })).body.code, "Accept");
  const before = head(s.repo);
  const authors: [string, RegExp][] = [
    ["Ann", /is not "Name <email>"/],
    ["Ann <>", /is not "Name <email>"/],
    ["<ann@example.com>", /is not "Name <email>"/],
    ["Ann <ann@example.com", /is not "Name <email>"/],
    ["Ann <ann at example.com>", /is not "Name <email>"/],
    ["", /is not "Name <email>"/],
    // Two author headers reach the server joined by ", ": not one author.
    [`${ANN}, Bob <bob@example.com>`, /is not "Name <email>"/],
    [`${"A".repeat(300)} <a@example.com>`, /longer than 256 characters/],
    ["Ann\x85 <ann@example.com>", /control character/],
  ];
  for (const [author, why] of authors) {
    const r = await send(s.url, "POST", "/User/CreateConfig", create("app"), { ...PROTOBUF, "x-configserver-author": author });
    const body = pb.CreateConfigResponse.decode(r.body);
    t.is(r.status, 400, author);
    t.is(body.code, "InvalidParameter", author);
    t.regex(body.message, /^Header X-Configserver-Author ".*" is refused: /, author);
    t.regex(body.message, why, author);
  }
  for (const [message, why] of [["", /it is empty/], ["x".repeat(501), /it is longer than 500 characters/], ["a\x85b", /it contains a control character/]] as const) {
    const r = await send(s.url, "DELETE", "/User/DeleteConfig", pb.DeleteConfigRequest.encode({ config_name: "base" }).finish(), { ...PROTOBUF, "x-configserver-message": message });
    t.is(r.status, 400, message);
    t.regex(pb.DeleteConfigResponse.decode(r.body).message, new RegExp(`^Header X-Configserver-Message is refused: ${why.source}`), message);
  }
  const rollback = await send(s.url, "POST", "/api/v1/configs/base/rollback", JSON.stringify({ version: 1 }), { "content-type": "application/json", "x-configserver-author": "nobody" });
  t.is(rollback.status, 400);
  t.regex(JSON.parse(rollback.body.toString()).message, /^Header X-Configserver-Author "nobody" is refused/);
  t.is(head(s.repo), before, "no commit");
  t.truthy(await configOf(s.url, "base"));

  const read = await send(s.url, "GET", "/User/GetConfig", pb.GetConfigRequest.encode({ config_name: "base" }).finish(), { ...PROTOBUF, "x-configserver-author": "nobody" });
  t.is(pb.GetConfigResponse.decode(read.body).code, "Accept");
});

test("serve --author sets the identity of API commits", async (t) => {
  const repo = tempDir("cs-author-");
  const p = serveProcess(["--repo", repo, "--port", "0", "--author", "Config Bot <bot@example.com>"]);
  t.teardown(() => p.child.kill("SIGKILL"));
  const url = await p.url();
  const r = await send(url, "POST", "/User/CreateConfig", create("app"), PROTOBUF);
  t.is(pb.CreateConfigResponse.decode(r.body).code, "Accept");
  t.is(last(repo), "Config Bot|bot@example.com|Config Bot|bot@example.com|Create config app|");
  p.child.kill("SIGTERM");
  t.is(await p.exited, 0);
});
