import { join } from "node:path";
import test from "ava";
import { tempDir } from "./helpers/git.ts";
import { configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor } from "./helpers/server.ts";

const TOKEN = "s3cr3t-T0KEN-4711";
const REMOTE = `https://user:${TOKEN}@127.0.0.1:1/x.git`;
const TOKEN_AS_USER = `https://${TOKEN}@127.0.0.1:1/y.git`;

test("a token in --remote appears nowhere: not in the start-up error nor in the log of a failed start", async (t) => {
  for (const remote of [REMOTE, TOKEN_AS_USER]) {
    const p = serveProcess(["--repo", join(tempDir("cs-redact-"), "repo"), "--remote", remote, "--port", "0", "--log-level", "debug"]);
    t.teardown(() => void p.child.kill("SIGKILL"));
    t.is(await p.exited, 2);
    t.regex(p.stderr(), /cannot clone https:\/\/\*\*\*@127\.0\.0\.1:1\/[xy]\.git/);
    t.false(p.stderr().includes(TOKEN), p.stderr());
    t.false(JSON.stringify(p.logs).includes(TOKEN));
  }
});

test("a token in --remote appears nowhere while serving a local clone: /status, the settings line, sync warnings", async (t) => {
  const repo = repoWith("cs-redact-", { "configs/app.yaml": configYaml("app", "v1"), "agent_groups/default.yaml": groupYaml("default", ["app"]) });
  const p = serveProcess(["--repo", repo, "--remote", REMOTE, "--port", "0", "--sync-interval", "100ms", "--log-level", "debug"]);
  t.teardown(() => void p.child.kill("SIGKILL"));
  const url = await p.url();
  const status = await waitFor(async () => {
    const text = await (await fetch(`${url}/status`)).text();
    const s = JSON.parse(text) as { lastSync: { ok: boolean; error?: string } | null; lastFetchError: string | null };
    return s.lastSync && !s.lastSync.ok && s.lastFetchError ? { text, s } : undefined;
  });
  t.false(status.text.includes(TOKEN), status.text);
  t.regex(status.text, /https:\/\/\*\*\*@127\.0\.0\.1:1\/x\.git/);
  await waitFor(() => p.logs.filter((l) => l.msg === "sync with remote failed").length >= 2);
  const settings = p.logs.find((l) => l.msg === "settings");
  t.truthy(settings);
  t.is((settings?.settings as { remote: string }).remote, "https://***@127.0.0.1:1/x.git");
  p.child.kill("SIGTERM");
  t.is(await p.exited, 0);
  t.false(JSON.stringify(p.logs).includes(TOKEN), "a log line holds the token");
  t.false(p.stderr().includes(TOKEN));
});
