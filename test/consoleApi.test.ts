// The console's static files and the JSON routes it added (docs/console.md), over plain HTTP.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import test from "ava";
import { startServer } from "../src/server.ts";
import { CONTENT_SECURITY_POLICY } from "../src/http/console.ts";
import pino from "pino";
import { templateRepo } from "./helpers/browser.ts";
import { client, send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";
import { heartbeatAll, versionOf, waitForCommit } from "./helpers/observe.ts";

const json = (body: Buffer) => JSON.parse(body.toString("utf8")) as Record<string, unknown>;
const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) => send(url, "POST", path, JSON.stringify(body), { "content-type": "application/json", ...headers });
const put = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) => send(url, "PUT", path, JSON.stringify(body), { "content-type": "application/json", ...headers });
const get = (url: string, path: string, headers: Record<string, string> = {}) => send(url, "GET", path, "", headers);

async function served(t: Parameters<typeof withServer>[0], options: Parameters<typeof withServer>[1] = {}) {
  const repo = templateRepo();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  return { repo, server: await withServer(t, { repo, ...options }) };
}

test("the console is served at /ui/ with its security headers, hashed assets cached for a year, 404s, and / redirecting", async (t) => {
  const server = await withServer(t);
  const root = await get(server.url, "/");
  t.is(root.status, 302);
  t.is(root.headers.location, "ui/");
  t.is((await get(server.url, "/ui")).headers.location, "ui/");
  const index = await get(server.url, "/ui/");
  t.is(index.status, 200);
  t.is(index.headers["content-type"], "text/html; charset=utf-8");
  t.is(index.headers["cache-control"], "no-cache");
  t.is(index.headers["content-security-policy"], CONTENT_SECURITY_POLICY);
  t.regex(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  t.notRegex(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
  t.regex(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
  t.is(index.headers["x-content-type-options"], "nosniff");
  t.is(index.headers["x-frame-options"], "DENY");
  const html = index.body.toString("utf8");
  t.notRegex(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>|\bon[a-z]+=|style=/i, "no inline script, handler or style");
  const js = /src="(assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
  const css = /href="(assets\/style-[A-Z0-9]+\.css)"/.exec(html)?.[1];
  t.truthy(js);
  t.truthy(css);
  const script = await get(server.url, `/ui/${js}`, { "accept-encoding": "gzip" });
  t.is(script.status, 200);
  t.is(script.headers["content-type"], "text/javascript; charset=utf-8");
  t.is(script.headers["cache-control"], "public, max-age=31536000, immutable");
  t.is(script.headers["content-encoding"], "gzip");
  t.true(gunzipSync(script.body).length > script.body.length);
  const plain = await get(server.url, `/ui/${js}`);
  t.is(plain.headers["content-encoding"], undefined);
  t.deepEqual(gunzipSync(script.body), plain.body);
  t.is((await get(server.url, `/ui/${css}`)).headers["content-type"], "text/css; charset=utf-8");
  const head = await send(server.url, "HEAD", `/ui/${js}`, "");
  t.is(head.status, 200);
  t.is(head.body.length, 0);
  for (const missing of ["/ui/nope.js", "/ui/assets/main-XXXX.js"]) {
    const r = await get(server.url, missing);
    t.is(r.status, 404, missing);
    t.is(r.headers["x-content-type-options"], "nosniff");
    t.regex(r.body.toString(), /is not a file of the web console/);
  }
  // Files are looked up by name among those built, never on the disk: no path leads out.
  for (const escape of ["/ui/../package.json", "/ui/%2e%2e/package.json", "/ui/assets/../../package.json", "/ui/assets%2f..%2f..%2fpackage.json"]) {
    const r = await get(server.url, escape);
    t.is(r.status, 404, escape);
    t.notRegex(r.body.toString(), /"name": "configserver"/);
  }
  t.is((await send(server.url, "POST", "/ui/", "")).status, 405);
});

test("a server without a built console says how to build it; agents are answered as before", async (t) => {
  const repo = tempDir("cs-repo-");
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const empty = tempDir("cs-web-");
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const { consoleRouter } = await import("../src/http/console.ts");
  const router = consoleRouter({ dir: join(empty, "missing") });
  // The router alone, through koa, as the server mounts it.
  const Koa = (await import("koa")).default;
  const app = new Koa();
  app.use(router.routes());
  const { createServer } = await import("node:http");
  const http = createServer(app.callback()).listen(0, "127.0.0.1");
  t.teardown(() => http.close());
  await new Promise((r) => http.once("listening", r));
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  const r = await get(url, "/ui/");
  t.is(r.status, 503);
  t.regex(r.body.toString(), /not built.*make install/);
  // The real server's agent path is untouched by the console.
  const server = await startServer({ repo, port: 0, logger: pino({ level: "silent" }) });
  t.teardown(() => server.close());
  const beat = await send(server.url, "POST", "/Agent/HeartBeat", JSON.stringify({ agent_id: "a1" }), { "content-type": "application/json" });
  t.is(beat.status, 200);
  t.is(json(beat.body).code, "Accept");
  t.is((await send(server.url, "GET", "/Agent/ui/", "")).status, 404);
});

test("JSON reads carry ETags; the same answer again is 304 Not Modified", async (t) => {
  const { server } = await served(t);
  for (const path of ["/status", "/api/v1/groups", "/api/v1/configs", "/api/v1/fleet", "/api/v1/agents"]) {
    // /status says when the last sync ran, which may change between two requests: a few tries.
    let again: { status: number; body: Buffer } = { status: 0, body: Buffer.alloc(1) };
    for (let attempt = 0; attempt < 5 && again.status !== 304; attempt++) {
      const tag = (await get(server.url, path)).headers.etag as string;
      t.regex(tag, /^W\/"[A-Za-z0-9_-]+"$/, path);
      again = await get(server.url, path, { "if-none-match": tag, "cache-control": "no-cache" });
    }
    t.is(again.status, 304, path);
    t.is(again.body.length, 0);
    t.is((await get(server.url, path, { "if-none-match": 'W/"other"' })).status, 200);
  }
  const before = (await get(server.url, "/api/v1/groups")).headers.etag as string;
  t.is((await put(server.url, "/api/v1/groups/web", { tags: [{ name: "role", value: "web" }], configs: [] })).status, 200);
  t.is((await get(server.url, "/api/v1/groups", { "if-none-match": before })).status, 200, "a change changes the tag");
});

test("POST /api/v1/validate reports a config or group file's problems at their lines without writing anything", async (t) => {
  const { repo, server } = await served(t);
  const head = git(repo, "rev-parse", "HEAD").trim();
  const check = async (body: unknown) => {
    const r = await post(server.url, "/api/v1/validate", body);
    t.is(r.status, 200);
    return json(r.body) as { valid: boolean; path: string; problems: { line: number; column: number; message: string }[]; warnings: { line: number; message: string }[]; config?: Record<string, string>; group?: Record<string, unknown>; changed?: boolean; exists?: boolean };
  };
  const file = (await get(server.url, "/api/v1/files/configs/nginx-access.yaml"));
  const text = json(file.body).text as string;
  t.regex(text, /^config_name: nginx-access\n/);
  const same = await check({ kind: "config", name: "nginx-access", text });
  t.true(same.valid);
  t.false(same.changed);
  t.is(same.config?.configName, "nginx-access");

  const typo = await check({ kind: "config", name: "nginx-access", text: text.replace("description:", "descripton:") });
  t.false(typo.valid);
  t.deepEqual(typo.problems.map((p) => [p.line, p.column]), [[3, 1]]);
  t.regex(typo.problems[0]?.message ?? "", /unknown field "descripton"/);

  const broken = await check({ kind: "config", name: "nginx-access", text: "config_name: nginx-access\ncontent: |\n  a: 1\n b: [\n" });
  t.false(broken.valid);
  t.is(broken.problems[0]?.line, 4);
  const format = await check({ kind: "config", name: "nginx-access", text: text.replace("agent_type:", "format: text\nagent_type:") });
  t.false(format.valid);
  t.is(format.problems[0]?.line, 2);
  t.regex(format.problems[0]?.message ?? "", /format cannot be set here/);

  const renamed = await check({ kind: "config", name: "nginx-access", text: text.replace("config_name: nginx-access", "config_name: other") });
  t.regex(renamed.problems[0]?.message ?? "", /config_name must stay "nginx-access"/);
  t.is(renamed.problems[0]?.line, 1);
  const exists = await check({ kind: "config", text });
  t.regex(exists.problems[0]?.message ?? "", /already exists/);

  // The server's content rule: content that starts like a pipeline must parse, at its own line.
  const badContent = await check({ kind: "config", text: "config_name: plain\ncontent: |\n  inputs:\n    - Type: input_file\n  flushers: [\n" });
  t.false(badContent.valid);
  t.is(badContent.problems[0]?.line, 6, "an unclosed bracket is reported where the content ends");
  t.regex(badContent.problems[0]?.message ?? "", /^content: .*not valid YAML/);
  const notV2 = await check({ kind: "config", text: "config_name: plain\ncontent: |\n  just some text\n" });
  t.true(notV2.valid, "alpha and v1 agents still take it");
  t.is(notV2.warnings[0]?.line, 3);
  t.regex(notV2.warnings[0]?.message ?? "", /v2 agents will not receive/);

  const group = await check({ kind: "group", name: "web", text: "group_name: web\ntags:\n  - name: role\n    value: web\nconfigs:\n  - nginx-access\n  - missing-one\n" });
  t.false(group.valid);
  t.deepEqual(group.problems.map((p) => p.line), [7]);
  t.regex(group.problems[0]?.message ?? "", /applies config "missing-one", which does not exist/);
  const okGroup = await check({ kind: "group", text: "group_name: new-group\ntags: [{name: env, value: prod}]\nconfigs: [nginx-access]\n" });
  t.true(okGroup.valid);
  t.deepEqual(okGroup.group?.configs, ["nginx-access"]);
  t.false(okGroup.exists);

  for (const [body, pattern] of [[{ kind: "pipeline", text: "" }, /kind must be "config" or "group"/], [{ kind: "config" }, /text must be/], [{ kind: "config", text: "", name: "../x" }, /Invalid config name/]] as const) {
    const r = await post(server.url, "/api/v1/validate", body);
    t.is(r.status, 400);
    t.regex(json(r.body).message as string, pattern);
  }
  t.is(git(repo, "rev-parse", "HEAD").trim(), head);
  t.is(git(repo, "status", "--porcelain").trim(), "");
});

test("PUT /api/v1/groups/:name writes tags and configs as one commit; GET counts the agents each group selects", async (t) => {
  const { repo, server } = await served(t);
  const count = () => Number(git(repo, "rev-list", "--count", "HEAD").trim());
  const before = count();
  const r = await put(server.url, "/api/v1/groups/canary", { description: "one in ten", tags: [{ name: "canary", value: "yes" }, { name: "role", value: "web" }], configs: ["nginx-access", "java-app"] }, { "x-configserver-message": "Canary group for the web tier" });
  t.is(r.status, 200, r.body.toString());
  t.is(count(), before + 1);
  t.is(git(repo, "log", "-1", "--format=%s").trim(), "Canary group for the web tier");
  t.regex(git(repo, "show", "HEAD:agent_groups/canary.yaml"), /configs:\n  - java-app\n  - nginx-access\n/);
  t.is((await put(server.url, "/api/v1/groups/canary", { description: "one in ten", tags: [{ name: "canary", value: "yes" }, { name: "role", value: "web" }], configs: ["java-app", "nginx-access"] })).status, 200);
  t.is(count(), before + 1, "the same group again is no commit");
  for (const [body, status, pattern] of [
    [{ configs: ["nope"] }, 404, /Config nope doesn't exist/],
    [{ tags: [{ name: "", value: "x" }] }, 400, /tags\[0\]\.name is empty/],
    [{ configs: "nginx-access" }, 400, /list of names/],
    [{ colour: "red" }, 400, /Unknown field "colour"/],
  ] as const) {
    const bad = await put(server.url, "/api/v1/groups/canary", body);
    t.is(bad.status, status);
    t.regex(json(bad.body).message as string, pattern);
  }
  t.is(count(), before + 1);

  const beat = (agent_id: string, tags: Record<string, string>) => ({ agent_id, agent_type: "iLogtail", agent_version: "1.8", ip: "10.0.0.1", tags, running_status: "running", startup_time: 1 });
  await heartbeatAll(client(server.url), [beat("a1", { role: "web" }), beat("a2", { canary: "yes" }), beat("a3", { role: "db" })]);
  const groups = json((await get(server.url, "/api/v1/groups")).body).groups as { name: string; agents: number }[];
  t.deepEqual(Object.fromEntries(groups.map((g) => [g.name, g.agents])), { canary: 2, default: 3, "java-services": 0, "k8s-nodes": 0, web: 1 });
  const one = json((await get(server.url, "/api/v1/groups/canary")).body);
  t.is(one.agents, 2);
  t.deepEqual(one.configs, ["java-app", "nginx-access"]);
  t.is((await get(server.url, "/api/v1/groups/none")).status, 404);
  const detail = json((await get(server.url, "/api/v1/agents/a2")).body);
  t.deepEqual(detail.groups, ["canary", "default"]);
  const fleet = json((await get(server.url, "/api/v1/fleet")).body);
  t.like(fleet, { agents: 3, late: 0, failed: 0, byProtocol: { alpha: 3, v1: 0, v2: 0 } });
  t.deepEqual(fleet.byVersion, [{ version: "1.8", agents: 3 }]);
});

test("GET /api/v1/configs/:name/diff shows what each version changed; /commits/:commit and /files read the served commit", async (t) => {
  const { repo, server } = await served(t);
  const first = await versionOf(server.url, "java-app") as number;
  const file = json((await get(server.url, "/api/v1/files/configs/java-app.yaml")).body).text as string;
  const edited = file.replace(/^description: .*$/m, "description: changed").replace("inputs:", "# a comment\n  inputs:");
  mkdirSync(join(repo, "configs"), { recursive: true });
  writeFileSync(join(repo, "configs/java-app.yaml"), edited);
  git(repo, "commit", "-qam", "java-app: describe it");
  const second = git(repo, "rev-parse", "HEAD").trim();
  await waitForCommit(server.url, second);
  const diff = json((await get(server.url, "/api/v1/configs/java-app/diff")).body) as { from: { version: number }; to: { version: number; commit: string }; fields: unknown[]; lines: { op: string; text: string; oldLine: number | null; newLine: number | null }[]; added: number; removed: number };
  t.is(diff.from.version, first);
  t.is(diff.to.commit, second);
  t.deepEqual(diff.fields, [{ field: "description", before: file.match(/^description: (.*)$/m)?.[1], after: "changed" }]);
  t.is(diff.added, 1);
  t.is(diff.removed, 0);
  t.deepEqual(diff.lines.find((l) => l.op === "+"), { op: "+", text: "# a comment", oldLine: null, newLine: diff.lines.findIndex((l) => l.op === "+") + 1 });
  const created = json((await get(server.url, `/api/v1/configs/java-app/diff?to=${first}`)).body) as { from: unknown; added: number };
  t.is(created.from, null);
  t.true(created.added > 3);
  t.is((await get(server.url, "/api/v1/configs/java-app/diff?to=abc")).status, 400);
  t.is((await get(server.url, "/api/v1/configs/java-app/diff?to=999")).status, 404);
  t.is((await get(server.url, "/api/v1/configs/none/diff")).status, 404);

  const commit = json((await get(server.url, `/api/v1/commits/${second.slice(0, 12)}`)).body);
  t.like(commit, { commit: second, author: "Test Person", authorEmail: "person@example.com", subject: "java-app: describe it" });
  t.is((await get(server.url, "/api/v1/commits/zzz")).status, 400);
  t.is((await get(server.url, `/api/v1/commits/${"0".repeat(40)}`)).status, 400);

  t.is((await get(server.url, "/api/v1/files/configs/missing.yaml")).status, 404);
  t.is((await get(server.url, "/api/v1/files/secrets/x.yaml")).status, 400);
  t.is((await get(server.url, "/api/v1/files/configs/..%2F.git%2Fconfig")).status, 400);
  const noFile = json((await get(server.url, "/api/v1/files/agent_groups/default.yaml")).body);
  t.false(noFile.exists);
  t.regex(noFile.text as string, /^group_name: default\n/);
});

test("the console's routes need the user token like the rest of /api/; the static files do not", async (t) => {
  const server = await withServer(t, { userToken: "tok" });
  for (const [method, path] of [["GET", "/api/v1/fleet"], ["GET", "/api/v1/groups"], ["PUT", "/api/v1/groups/x"], ["POST", "/api/v1/validate"], ["GET", "/api/v1/files/configs/a.yaml"], ["GET", "/api/v1/commits/abcd"], ["GET", "/api/v1/configs/a/diff"]] as const) {
    const r = await send(server.url, method, path, "{}", { "content-type": "application/json" });
    t.is(r.status, 401, path);
    t.is(r.headers["www-authenticate"], 'Bearer realm="configserver"');
  }
  t.is((await get(server.url, "/api/v1/fleet", { authorization: "Bearer tok" })).status, 200);
  t.is((await get(server.url, "/ui/")).status, 200);
});

test("read-only: the group write is refused and nothing is committed", async (t) => {
  const { repo, server } = await served(t, { readOnly: true });
  const head = git(repo, "rev-parse", "HEAD").trim();
  const r = await put(server.url, "/api/v1/groups/web", { tags: [], configs: [] });
  t.is(r.status, 403);
  t.regex(json(r.body).message as string, /pull request/);
  t.is(git(repo, "rev-parse", "HEAD").trim(), head);
});
