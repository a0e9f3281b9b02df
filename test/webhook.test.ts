import { createHmac } from "node:crypto";
import { join } from "node:path";
import test from "ava";
import { send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { bareRemote, commitFiles, configYaml, groupYaml } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { configOf, servedCommit, statusOf } from "./helpers/observe.ts";

const secret = "s3cret-for-tests";
const payload = JSON.stringify({ ref: "refs/heads/main", after: "0".repeat(40) });
const hmac = (body: string, key = secret) => createHmac("sha256", key).update(body).digest("hex");
const initial = { "configs/c1.yaml": configYaml("c1", "v1"), "agent_groups/default.yaml": groupYaml("default", ["c1"]) };

const providers: [string, Record<string, string>][] = [
  ["GitHub", { "x-github-event": "push", "x-hub-signature-256": `sha256=${hmac(payload)}` }],
  ["GitLab", { "x-gitlab-event": "Push Hook", "x-gitlab-token": secret }],
  ["Gitea", { "x-gitea-event": "push", "x-gitea-signature": hmac(payload) }],
];

for (const [name, headers] of providers) {
  test(`a signed ${name} push webhook syncs at once (polling interval is an hour)`, async (t) => {
    const { url, person } = bareRemote(initial);
    const s = await withServer(t, { repo: join(tempDir(), "repo"), remote: url, syncIntervalMs: 3_600_000, webhookSecret: secret });
    await waitFor(async () => (await statusOf(s.url)).lastSync);
    commitFiles(person, { "configs/c1.yaml": configYaml("c1", `pushed, ${name}`) });
    git(person, "push", "-q", "origin", "main");
    const r = await send(s.url, "POST", "/hooks/git", payload, { "content-type": "application/json", ...headers });
    t.is(r.status, 202);
    await waitFor(async () => (await configOf(s.url, "c1"))?.content === `pushed, ${name}`);
  });
}

test("bad, missing and replayed signatures get 401 and no sync", async (t) => {
  const { url, person } = bareRemote(initial);
  const s = await withServer(t, { repo: join(tempDir(), "repo"), remote: url, syncIntervalMs: 3_600_000, webhookSecret: secret });
  const firstSync = await waitFor(async () => (await statusOf(s.url)).lastSync);
  commitFiles(person, { "configs/c1.yaml": configYaml("c1", "must wait") });
  git(person, "push", "-q", "origin", "main");
  const other = JSON.stringify({ ref: "refs/heads/main", after: "1".repeat(40) });
  const bad: Record<string, string>[] = [
    { "x-hub-signature-256": `sha256=${hmac(payload, "wrong")}` },
    { "x-hub-signature-256": `sha256=${hmac(other)}` }, // a valid signature of another body, replayed
    { "x-gitea-signature": hmac(payload, "wrong") },
    { "x-gitlab-token": "wrong" },
    {},
  ];
  for (const headers of bad) {
    const r = await send(s.url, "POST", "/hooks/git", payload, { "content-type": "application/json", ...headers });
    t.is(r.status, 401, JSON.stringify(headers));
    t.regex(JSON.parse(r.body.toString()).error as string, /signature|token/i);
  }
  t.deepEqual((await statusOf(s.url)).lastSync, firstSync, "no sync ran");
  t.is((await configOf(s.url, "c1"))?.content, "v1");
});

test("without a configured secret the webhook refuses everything", async (t) => {
  const s = await withServer(t);
  const r = await send(s.url, "POST", "/hooks/git", payload, { "x-gitlab-token": "" });
  t.is(r.status, 401);
  t.regex(r.body.toString(), /webhook-secret/);
});

test("a write through server A reaches server B by a signed webhook, not by polling", async (t) => {
  const { url } = bareRemote(initial);
  const a = await withServer(t, { repo: join(tempDir(), "repo"), remote: url, syncIntervalMs: 3_600_000 });
  const b = await withServer(t, { repo: join(tempDir(), "repo"), remote: url, syncIntervalMs: 3_600_000, webhookSecret: secret });
  await waitFor(async () => (await statusOf(b.url)).lastSync);
  t.is((await a.api.updateConfig({ config_detail: { config_name: "c1", content: "from A" } })).body.code, "Accept");
  t.is((await configOf(b.url, "c1"))?.content, "v1");
  const r = await send(b.url, "POST", "/hooks/git", payload, { "x-hub-signature-256": `sha256=${hmac(payload)}` });
  t.is(r.status, 202);
  await waitFor(async () => (await configOf(b.url, "c1"))?.content === "from A");
  t.is(await servedCommit(b.url), await servedCommit(a.url));
});
