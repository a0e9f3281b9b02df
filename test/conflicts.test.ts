// Issue 23 item 14: a careful user's own conflict is not a server error. The JSON API answers 409
// naming what blocks the write; the alpha User API keeps the reference server's answers where it
// defines them, else its nearest code that is not InternalServerError; neither is logged as an
// error nor counted under InternalServerError; no absolute path or git stderr reaches a client.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import test from "ava";
import pino from "pino";
import { send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, writeFiles } from "./helpers/repo.ts";
import { waitFor, withServer, type TestServer } from "./helpers/server.ts";

const json = { "content-type": "application/json" };

/** A server whose log lines are kept, to see what was logged at error. */
async function logged(t: Parameters<typeof withServer>[0], options: Parameters<typeof withServer>[1] = {}): Promise<{ s: TestServer; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, done) {
    for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  } });
  const s = await withServer(t, { ...options, logger: pino({ level: "debug" }, sink) });
  return { s, lines };
}

const errorsLogged = (lines: readonly Record<string, unknown>[]) => lines.filter((l) => (l.level as number) >= 50 && l.msg === "request");

async function metric(s: TestServer, route: string, code: string): Promise<number> {
  const text = (await send(s.url, "GET", "/metrics", "")).body.toString();
  const line = text.split("\n").find((l) => l.startsWith("configserver_http_requests_total{") && l.includes(`route="${route}"`) && l.includes(`code="${code}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

async function applied(t: Parameters<typeof withServer>[0]) {
  const { s, lines } = await logged(t);
  const w = (path: string, body: unknown) => send(s.url, "POST", path, JSON.stringify(body), json);
  t.is((await w("/User/CreateConfig", { configDetail: { configName: "app", content: "enable: true\n" } })).status, 200);
  t.is((await w("/User/CreateAgentGroup", { agentGroup: { groupName: "web" } })).status, 200);
  t.is((await w("/User/ApplyConfigToAgentGroup", { groupName: "web", configName: "app" })).status, 200);
  return { s, lines };
}

test("deleting an applied config or group: the reference's 500 answers, not logged as errors nor counted as InternalServerError", async (t) => {
  const { s, lines } = await applied(t);
  const config = await s.api.deleteConfig({ request_id: "d1", config_name: "app" });
  t.is(config.status, 500);
  t.is(config.body.code, "InternalServerError");
  t.is(config.body.message, "Config app was applied to some agent groups, cannot be deleted.");
  const group = await send(s.url, "POST", "/User/DeleteAgentGroup", JSON.stringify({ groupName: "web" }), json);
  t.is(group.status, 500);
  t.like(JSON.parse(group.body.toString()), { code: "InternalServerError", message: "Agent group web was applied to some configs, cannot be deleted." });
  t.deepEqual(errorsLogged(lines), [], "not logged as an error");
  t.is(await metric(s, "/User/DeleteConfig", "InternalServerError"), 0);
  t.is(await metric(s, "/User/DeleteAgentGroup", "InternalServerError"), 0);
  t.is(await metric(s, "/User/DeleteConfig", "Conflict"), 1);
  t.is(await metric(s, "/User/DeleteAgentGroup", "Conflict"), 1);
});

test("writing over someone's uncommitted edit: 409 naming the file on the JSON API, ServerBusy on the alpha User API", async (t) => {
  const { s, lines } = await applied(t);
  t.is((await s.api.updateConfig({ config_detail: { config_name: "app", content: "enable: false\n" } })).body.code, "Accept");
  const history = JSON.parse((await send(s.url, "GET", "/api/v1/configs/app/history", "")).body.toString()) as { versions: { version: number }[] };
  const oldest = history.versions[history.versions.length - 1]?.version;
  writeFiles(s.repo, { "configs/app.yaml": configYaml("app", "edited by hand\n") });
  const alpha = await s.api.updateConfig({ config_detail: { config_name: "app", content: "via api\n" } });
  t.is(alpha.status, 503);
  t.is(alpha.body.code, "ServerBusy");
  t.regex(alpha.body.message, /configs\/app\.yaml has uncommitted changes/);
  t.is((await s.api.updateConfig({ config_detail: { config_name: "app", content: "via api\n" } })).body.code, "ServerBusy");
  const rollback = await send(s.url, "POST", "/api/v1/configs/app/rollback", JSON.stringify({ version: oldest }), json);
  t.is(rollback.status, 409, rollback.body.toString());
  t.like(JSON.parse(rollback.body.toString()), { code: "Conflict" });
  t.regex((JSON.parse(rollback.body.toString()) as { message: string }).message, /configs\/app\.yaml has uncommitted changes/);
  const group = await send(s.url, "PUT", "/api/v1/groups/web", JSON.stringify({ configs: [] }), json);
  t.is(group.status, 200, "another file is not blocked");
  writeFiles(s.repo, { "agent_groups/web.yaml": groupYaml("web", ["app"], [["edited", "by-hand"]]) });
  const blocked = await send(s.url, "PUT", "/api/v1/groups/web", JSON.stringify({ configs: ["app"] }), json);
  t.is(blocked.status, 409);
  const body = JSON.parse(blocked.body.toString()) as { code: string; message: string };
  t.is(body.code, "Conflict");
  t.regex(body.message, /agent_groups\/web\.yaml has uncommitted changes/);
  t.false(body.message.includes(s.repo), "no absolute path");
  t.deepEqual(errorsLogged(lines), []);
  t.is(await metric(s, "/User/UpdateConfig", "InternalServerError"), 0);
  t.is(await metric(s, "/User/UpdateConfig", "Conflict"), 2);
});

test("writing while HEAD is invalid: 409 on the JSON API, ServerBusy on the alpha User API, naming the commit and its problem", async (t) => {
  const { s, lines } = await applied(t);
  const bad = commitFiles(s.repo, { "configs/broken.yaml": "config_name: [unclosed\n" }, "break it");
  await waitFor(() => s.store.refused?.commit === bad);
  const alpha = await s.api.createConfig({ config_detail: { config_name: "new", content: "enable: true\n" } });
  t.is(alpha.status, 503);
  t.is(alpha.body.code, "ServerBusy");
  t.regex(alpha.body.message, new RegExp(`HEAD ${bad.slice(0, 12)} is invalid.*configs/broken\\.yaml`));
  const put = await send(s.url, "PUT", "/api/v1/groups/web", JSON.stringify({ configs: [] }), json);
  t.is(put.status, 409);
  t.like(JSON.parse(put.body.toString()), { code: "Conflict" });
  t.deepEqual(errorsLogged(lines), []);
  t.is(await metric(s, "/User/CreateConfig", "InternalServerError"), 0);
});

test("a lock held by another git process is named relative to the repository, never by its absolute path", async (t) => {
  const { s } = await logged(t, { lockWaitMs: 100 });
  t.is((await s.api.createConfig({ config_detail: { config_name: "first", content: "x" } })).body.code, "Accept");
  t.is((await s.api.createConfig({ config_detail: { config_name: "second", content: "x" } })).body.code, "Accept");
  writeFileSync(join(s.repo, ".git", "index.lock"), "");
  const r = await s.api.updateConfig({ config_detail: { config_name: "first", content: "y" } });
  t.is(r.body.code, "ServerBusy");
  t.regex(r.body.message, /\.git\/index\.lock is held/);
  t.false(r.body.message.includes(s.repo), r.body.message);
  t.is(git(s.repo, "log", "-1", "--format=%s").trim(), "Create config second");
});
