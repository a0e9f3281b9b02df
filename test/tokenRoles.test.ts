// Issue 23 item 10: named tokens with roles, read from the settings file; the author header is
// honoured only for tokens allowed to set it, else the token's identity is the commit author.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import test from "ava";
import pino from "pino";
import { stringify } from "yaml";
import { resolveSettings, SettingsError } from "../src/settings/resolveSettings.ts";
import { pb, send } from "./helpers/client.ts";
import { git, personEnv, tempDir } from "./helpers/git.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { withServer, type TestServer } from "./helpers/server.ts";

const VIEW = "viewer-token-0123456789";
const EDIT = "editor-token-0123456789";
const SIGN = "signing-editor-token-0123";
const ADMIN = "admin-token-0123456789";
const USER = "legacy-user-token-012345";
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { "content-type": "application/json" };
/** author name|email and committer name of HEAD. */
const author = (s: TestServer) => git(s.repo, "log", "-1", "--format=%an|%ae|%cn").trim();
const headCount = (s: TestServer) => Number(git(s.repo, "rev-list", "--count", "HEAD").trim());

/** The tokens as the settings file gives them (one from a file next to it), read as `serve` reads them. */
function tokensFromFile() {
  const dir = tempDir("cs-tokens-");
  writeFileSync(join(dir, "admin.token"), `${ADMIN}\n`);
  const file = join(dir, "configserver.yaml");
  writeFileSync(file, stringify({
    repo: "state",
    tokens: [
      { name: "dashboard", token: VIEW, identity: "Dashboard <dash@example.com>", role: "viewer" },
      { name: "ci", token: EDIT, identity: "CI Robot <ci@example.com>", role: "editor" },
      { name: "console", token: SIGN, identity: "Console <console@example.com>", role: "editor", setsAuthor: true },
      { name: "ops", tokenFile: "admin.token", identity: "Ops Lead <ops@example.com>", role: "admin" },
    ],
  }));
  return resolveSettings({ flags: { config: file }, env: {} }).settings.tokens;
}

async function server(t: Parameters<typeof withServer>[0]): Promise<TestServer> {
  const s = await withServer(t, { tokens: tokensFromFile(), author: { name: "Server", email: "server@example.com" } });
  // A first commit, by the admin (the server's own identity signs as committer).
  const r = await send(s.url, "POST", "/User/CreateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: true\n" } }), { ...json, ...bearer(ADMIN) });
  t.is(r.status, 200, r.body.toString());
  return s;
}

test("a viewer reads but cannot write: 403 Forbidden naming the role needed, in the route's envelope; nothing is committed", async (t) => {
  const s = await server(t);
  const before = headCount(s);
  t.is((await send(s.url, "GET", "/User/ListConfigs", "", bearer(VIEW))).status, 200);
  for (const path of ["/api/v1/configs", "/status", "/api/v1/configs/app/history"]) t.is((await send(s.url, "GET", path, "", bearer(VIEW))).status, 200, path);
  const create = pb.CreateConfigRequest.encode({ config_detail: { config_name: "x", content: "enable: true\n" } }).finish();
  const r = await send(s.url, "POST", "/User/CreateConfig", create, bearer(VIEW));
  t.is(r.status, 403);
  const answer = pb.CreateConfigResponse.decode(r.body);
  t.is(answer.code, "Forbidden");
  t.regex(answer.message, /editor/);
  t.regex(answer.message, /dashboard/);
  const asJson = await send(s.url, "POST", "/User/DeleteConfig", JSON.stringify({ configName: "app" }), { ...json, ...bearer(VIEW) });
  t.is(asJson.status, 403);
  t.is((JSON.parse(asJson.body.toString()) as { code: string }).code, "Forbidden");
  const put = await send(s.url, "PUT", "/api/v1/groups/default", JSON.stringify({ configs: ["app"] }), { ...json, ...bearer(VIEW) });
  t.is(put.status, 403);
  t.regex((JSON.parse(put.body.toString()) as { message: string }).message, /editor/);
  t.is(headCount(s), before);
});

test("unknown tokens are 401; an editor writes configs and groups but not rollbacks (admin)", async (t) => {
  const s = await server(t);
  for (const headers of [{}, bearer("not-a-token"), { authorization: EDIT }]) {
    const r = await send(s.url, "GET", "/User/ListConfigs", "", headers);
    t.is(r.status, 401);
    t.is(pb.ListConfigsResponse.decode(r.body).code, "Unauthorized");
  }
  t.is((await send(s.url, "GET", "/status", "", bearer("not-a-token"))).status, 401);
  t.is((await send(s.url, "PUT", "/User/UpdateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: false\n" } }), { ...json, ...bearer(EDIT) })).status, 200);
  t.is((await send(s.url, "PUT", "/api/v1/groups/default", JSON.stringify({ configs: ["app"] }), { ...json, ...bearer(EDIT) })).status, 200);
  const before = headCount(s);
  const rollback = await send(s.url, "POST", "/api/v1/configs/app/rollback", JSON.stringify({ version: 1 }), { ...json, ...bearer(EDIT) });
  t.is(rollback.status, 403);
  const body = JSON.parse(rollback.body.toString()) as { code: string; message: string };
  t.is(body.code, "Forbidden");
  t.regex(body.message, /admin/);
  t.is(headCount(s), before);
  const byAdmin = await send(s.url, "POST", "/api/v1/configs/app/rollback", JSON.stringify({ version: 1 }), { ...json, ...bearer(ADMIN) });
  t.is(byAdmin.status, 200, byAdmin.body.toString());
  t.is(author(s), "Ops Lead|ops@example.com|Server");
});

test("the commit author is the token's identity; the author header counts only for a token that may set it", async (t) => {
  const s = await server(t);
  const claim = { "x-configserver-author": "Mallory <mallory@evil.example>" };
  t.is((await send(s.url, "PUT", "/User/UpdateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: false\n" } }), { ...json, ...bearer(EDIT), ...claim })).status, 200);
  t.is(author(s), "CI Robot|ci@example.com|Server", "the editor's claim is ignored");
  t.is((await send(s.url, "PUT", "/User/UpdateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: true\n" } }), { ...json, ...bearer(EDIT) })).status, 200);
  t.is(author(s), "CI Robot|ci@example.com|Server");
  t.is((await send(s.url, "PUT", "/User/UpdateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: false\n" } }), { ...json, ...bearer(SIGN), "x-configserver-author": "Ann Example <ann@example.com>" })).status, 200);
  t.is(author(s), "Ann Example|ann@example.com|Server", "a token allowed to set the author");
  t.is((await send(s.url, "PUT", "/User/UpdateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: true\n" } }), { ...json, ...bearer(SIGN) })).status, 200);
  t.is(author(s), "Console|console@example.com|Server", "without the header: the token's identity");
});

test("GET /api/v1/whoami names the token, its role and the identity its writes are committed as", async (t) => {
  const s = await server(t);
  const me = async (token: string) => JSON.parse((await send(s.url, "GET", "/api/v1/whoami", "", bearer(token))).body.toString()) as { token: unknown };
  t.deepEqual((await me(EDIT)).token, { name: "ci", role: "editor", identity: "CI Robot <ci@example.com>", setsAuthor: false });
  t.deepEqual((await me(VIEW)).token, { name: "dashboard", role: "viewer", identity: "Dashboard <dash@example.com>", setsAuthor: false });
  t.is((await send(s.url, "GET", "/api/v1/whoami", "")).status, 401);
  const open = await withServer(t);
  t.deepEqual(JSON.parse((await send(open.url, "GET", "/api/v1/whoami", "")).body.toString()), { code: "Accept", message: "Who am I success", token: null });
});

test("each request's log line names the token it came with, never the token itself", async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, done) {
    for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    done();
  } });
  const s = await withServer(t, { tokens: tokensFromFile(), logger: pino({ level: "info" }, sink) });
  t.is((await send(s.url, "POST", "/User/CreateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: true\n" } }), { ...json, ...bearer(EDIT) })).status, 200);
  t.is((await send(s.url, "POST", "/User/DeleteConfig", JSON.stringify({ configName: "app" }), { ...json, ...bearer(VIEW) })).status, 403);
  const requests = lines.filter((l) => l.msg === "request");
  t.like(requests.find((l) => l.route === "/User/CreateConfig"), { token: "ci", status: 200 });
  t.like(requests.find((l) => l.route === "/User/DeleteConfig"), { token: "dashboard", status: 403, code: "Forbidden" });
  t.false(JSON.stringify(lines).includes(EDIT) || JSON.stringify(lines).includes(VIEW), "no token in the log");
});

test("--user-token keeps working as an admin token that may set the author, beside named tokens or alone", async (t) => {
  const s = await withServer(t, { userToken: USER, tokens: tokensFromFile(), author: { name: "Server", email: "server@example.com" } });
  t.is((await send(s.url, "POST", "/User/CreateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: true\n" } }), { ...json, ...bearer(USER) })).status, 200);
  t.is(author(s), "Server|server@example.com|Server");
  t.is((await send(s.url, "PUT", "/User/UpdateConfig", JSON.stringify({ configDetail: { configName: "app", content: "enable: false\n" } }), { ...json, ...bearer(USER), "x-configserver-author": "Ann Example <ann@example.com>" })).status, 200);
  t.is(author(s), "Ann Example|ann@example.com|Server");
  t.is((await send(s.url, "POST", "/api/v1/configs/app/rollback", JSON.stringify({ version: 1 }), { ...json, ...bearer(USER) })).status, 200);
  t.is((await send(s.url, "GET", "/User/ListConfigs", "", bearer(VIEW))).status, 200, "named tokens work beside it");
});

test("the tokens setting: every problem named, files relative to the settings file, secrets never on the command line", (t) => {
  const dir = tempDir("cs-tokens-bad-");
  const file = join(dir, "configserver.yaml");
  writeFileSync(file, stringify({
    repo: "state",
    tokens: [
      { name: "a", token: "same-token-1234567890", identity: "A <a@example.com>", role: "viewer" },
      { name: "a", token: "same-token-1234567890", identity: "nobody", role: "root" },
      { name: "c", identity: "C <c@example.com>", role: "editor" },
      { name: "d", token: "x-1234567890123456", tokenFile: "d.token", identity: "D <d@example.com>", role: "editor" },
      { name: "e", tokenFile: "missing.token", identity: "E <e@example.com>", role: "editor", setsAuthor: "sometimes", colour: "blue" },
    ],
  }));
  const e = t.throws(() => resolveSettings({ flags: { config: file }, env: {} }), { instanceOf: SettingsError }) as SettingsError;
  const expected = [/name "a" is used twice/, /token of "a" is the token of "a"|same token/, /identity "nobody"/, /role "root" is not one of viewer, editor, admin/, /"c".*token or tokenFile/,
    /"d".*token and tokenFile/, /"e".*missing\.token.*ENOENT/, /"e".*setsAuthor/, /"e".*unknown field "colour"/];
  for (const re of expected) t.true(e.problems.some((p) => re.test(p)), `${re}\n${e.message}`);
  t.false(e.message.includes("same-token-1234567890"), "no token in a problem");
  t.throws(() => resolveSettings({ flags: { repo: "/r", tokens: "x" }, env: {} }), { message: /tokens.*settings file/ });
  t.throws(() => resolveSettings({ flags: { repo: "/r" }, env: { CONFIGSERVER_TOKENS: "x" } }), { message: /tokens.*settings file/ });
});

test("the real `serve --workers 2` reads tokens from its settings file; the primary, behind the workers, checks them and the Host", async (t) => {
  const dir = tempDir("cs-tokens-serve-");
  writeFileSync(join(dir, "ci.token"), `${EDIT}\n`);
  const file = join(dir, "configserver.yaml");
  writeFileSync(file, stringify({
    repo: "state", port: 0, workers: 2, "log-level": "info",
    tokens: [
      { name: "dashboard", token: VIEW, identity: "Dashboard <dash@example.com>", role: "viewer" },
      { name: "ci", tokenFile: "ci.token", identity: "CI Robot <ci@example.com>", role: "editor" },
    ],
  }));
  const p = serveProcess(["--config", file], { GIT_CONFIG_NOSYSTEM: personEnv.GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL: "/dev/null" });
  t.teardown(() => p.child.kill("SIGKILL"));
  const url = await p.url();
  const settings = p.logs.find((l) => l.msg === "settings") as { settings: { tokens: unknown } };
  t.deepEqual(settings.settings.tokens, [{ name: "dashboard", role: "viewer", identity: "Dashboard <dash@example.com>", setsAuthor: false }, { name: "ci", role: "editor", identity: "CI Robot <ci@example.com>", setsAuthor: false }]);
  t.false(JSON.stringify(p.logs).includes(EDIT) || JSON.stringify(p.logs).includes(VIEW), "no token in the log");
  const body = JSON.stringify({ configDetail: { configName: "app", content: "enable: true\n" } });
  t.is((await send(url, "POST", "/User/CreateConfig", body, { ...json, ...bearer(VIEW) })).status, 403);
  t.is((await send(url, "POST", "/User/CreateConfig", body, { ...json, ...bearer(EDIT), "x-configserver-author": "Mallory <m@evil.example>" })).status, 200);
  t.is(git(join(dir, "state"), "log", "-1", "--format=%an|%ae").trim(), "CI Robot|ci@example.com");
  t.is((await send(url, "GET", "/User/ListConfigs", "", { ...bearer(VIEW), host: "rebound.evil.example" })).status, 403);
  t.is((await send(url, "POST", "/User/DeleteConfig?configName=app", "", { ...bearer(EDIT), "content-type": "text/plain" })).status, 415);
  p.child.kill("SIGTERM");
  t.is(await p.exited, 0);
});
