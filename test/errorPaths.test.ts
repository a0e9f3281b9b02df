import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import test from "ava";
import pino from "pino";
import { send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { withServer } from "./helpers/server.ts";

test("a write refused for a held lock names it relative to the repository; the full path is only in the log", async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const repo = repoWith("cs-paths-", { "configs/app.yaml": configYaml("app", "v1"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const s = await withServer(t, { repo, lockWaitMs: 200, logger: pino({ level: "info" }, sink) });
  // Another git process holds the index.
  writeFileSync(join(repo, ".git", "index.lock"), "");
  const protobuf = await s.api.updateConfig({ config_detail: { config_name: "app", content: "v2" } });
  t.is(protobuf.body.code, "ServerBusy");
  t.regex(protobuf.body.message, /\.git\/index\.lock is held by another git process/);
  const json = await send(s.url, "PUT", "/User/UpdateConfig", JSON.stringify({ config_detail: { config_name: "app", content: "v3" } }), { "content-type": "application/json" });
  t.is(json.status, 503);
  for (const text of [protobuf.body.message, json.body.toString()]) {
    t.false(text.includes(repo), text);
    t.false(text.includes(tmpdir()), text);
  }
  const logged = lines.filter((l) => l.includes("write failed"));
  t.true(logged.some((l) => l.includes(join(repo, ".git", "index.lock"))), "the log has the full path");
});

test("/readyz without a token says HEAD fails validation, not the file or the parser's message; /status with the token does", async (t) => {
  const repo = tempDir("cs-paths-");
  git(repo, "init", "-q", "--initial-branch=main");
  commitFiles(repo, { "configs/secret-name.yaml": "config_name: [unclosed\n" }, "broken from the start");
  const s = await withServer(t, { repo, userToken: "operator-token" });
  const ready = await send(s.url, "GET", "/readyz", "");
  t.is(ready.status, 503);
  t.regex(ready.body.toString(), /HEAD [0-9a-f]{12} fails validation \(1 problem\(s\); see \/status\)/);
  t.notRegex(ready.body.toString(), /secret-name|unclosed|YAML/);
  t.is((await send(s.url, "GET", "/status", "")).status, 401);
  const status = await send(s.url, "GET", "/status", "", { authorization: "Bearer operator-token" });
  t.regex(status.body.toString(), /configs\/secret-name\.yaml/);
});
