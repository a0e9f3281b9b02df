import { readFileSync } from "node:fs";
import test from "ava";
import { send } from "./helpers/client.ts";
import { withServer } from "./helpers/server.ts";
import { servedCommit } from "./helpers/observe.ts";

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

test("GET / sends a browser to the console; asked for JSON it says what this is: name, version, served commit, links", async (t) => {
  const s = await withServer(t);
  await s.api.createConfig({ config_detail: { config_name: "c1", content: "x\n" } });
  const commit = await servedCommit(s.url);
  t.truthy(commit);

  const page = await send(s.url, "GET", "/", "", { accept: "text/html,*/*;q=0.8" });
  t.is(page.status, 302);
  t.is(page.headers.location, "ui/");

  const json = await send(s.url, "GET", "/", "", { accept: "application/json" });
  t.is(json.status, 200);
  const body = JSON.parse(json.body.toString()) as { name: string; version: string; commit: string; links: Record<string, string>; docs: string };
  t.like(body, { name: "configserver", version, commit });
  t.deepEqual(Object.keys(body.links).slice(0, 2), ["/status", "/readyz"]);
  t.regex(body.docs, /README\.md/);
});

test("GET / needs no token (it shows nothing /metrics does not); /status still does", async (t) => {
  const s = await withServer(t, { userToken: "secret" });
  t.is((await send(s.url, "GET", "/", "")).status, 302);
  t.is((await send(s.url, "GET", "/", "", { accept: "application/json" })).status, 200);
  t.is((await send(s.url, "GET", "/status", "")).status, 401);
});

test("GET / as JSON before the repository's first commit says so", async (t) => {
  const s = await withServer(t);
  t.like(JSON.parse((await send(s.url, "GET", "/", "", { accept: "application/json" })).body.toString()), { commit: null, committedAt: null });
});
