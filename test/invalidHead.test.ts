import { rmSync } from "node:fs";
import test from "ava";
import { UpdateStatus } from "../src/domain/configList.ts";
import { client, num, send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { waitFor, withServer } from "./helpers/server.ts";
import { servedCommit, statusOf } from "./helpers/observe.ts";

// A restart on an invalid HEAD must never empty the fleet (issue 10, point 1): the server serves
// the newest valid commit on HEAD's first-parent chain, and with none it refuses agents
// (ServerBusy) rather than telling them their configs were deleted.

const broken = { "configs/a.yaml": "config_name: [unclosed\n" };
const tags = { env: "prod" };

function history(): { repo: string; good: string } {
  const repo = repoWith("cs-invalid-head-", { "configs/a.yaml": configYaml("a", "a1\n"), "configs/b.yaml": configYaml("b", "b1\n"), "agent_groups/prod.yaml": groupYaml("prod", ["a", "b"], [["env", "prod"]]) }, "start");
  const good = commitFiles(repo, { "configs/a.yaml": configYaml("a", "a2\n") }, "a 2");
  return { repo, good };
}

async function servedVersions(url: string): Promise<Record<string, number>> {
  const r = await client(url).configList({ agent_id: "agent-1", tags, config_versions: {} });
  return Object.fromEntries(r.body.config_update_infos.map((i) => [i.config_name ?? "", num(i.config_version)]));
}

test("a start on an invalid HEAD serves HEAD~1, with the versions a server at HEAD~1 gives, and agents keep their configs", async (t) => {
  const { repo, good } = history();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  // The reference: a fresh server on a clone at the good commit.
  const reference = tempDir("cs-invalid-ref-");
  t.teardown(() => rmSync(reference, { recursive: true, force: true }));
  git(reference, "clone", "-q", repo, ".");
  const ref = await withServer(t, { repo: reference });
  const expected = await servedVersions(ref.url);
  t.deepEqual(expected, { a: 2, b: 1 });

  commitFiles(repo, broken, "break a");
  const s = await withServer(t, { repo });
  t.is(await servedCommit(s.url), good);
  t.is((await statusOf(s.url)).refused?.commit, git(repo, "rev-parse", "HEAD").trim());
  t.deepEqual(await servedVersions(s.url), expected);
  // An agent that runs the good commit's versions is told nothing changed: no DELETED.
  const poll = await client(s.url).configList({ agent_id: "agent-2", tags, config_versions: expected });
  t.is(poll.status, 200);
  t.deepEqual(poll.body.config_update_infos.map((i) => [i.config_name, i.update_status]), [["a", UpdateStatus.SAME], ["b", UpdateStatus.SAME]]);
  const status = JSON.parse((await send(s.url, "GET", "/status", "")).body.toString()) as { commit: string; configs: number; notServable: string | null };
  t.like(status, { commit: good, configs: 2, notServable: null });
});

test("a start on several invalid commits serves the newest valid one before them, also without the remembered commit", async (t) => {
  const { repo, good } = history();
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  const first = await withServer(t, { repo });
  t.is(await servedCommit(first.url), good);
  await first.close();
  commitFiles(repo, broken, "break a");
  commitFiles(repo, { "configs/c.yaml": configYaml("c", "c\n") }, "still broken");
  for (const remembered of [true, false]) {
    if (!remembered) rmSync(`${repo}/.git/configserver`, { recursive: true, force: true });
    const s = await withServer(t, { repo });
    t.is(await servedCommit(s.url), good, remembered ? "with the remembered commit" : "by searching the history");
    t.deepEqual(await servedVersions(s.url), { a: 2, b: 1 });
    await s.close();
  }
});

test("a repository whose only commit is invalid: agents are answered 503 ServerBusy, never DELETED; readyz names the reason", async (t) => {
  const repo = tempDir("cs-invalid-only-");
  t.teardown(() => rmSync(repo, { recursive: true, force: true }));
  git(repo, "init", "-q", "--initial-branch=main");
  commitFiles(repo, { ...broken, "agent_groups/prod.yaml": groupYaml("prod", ["a"], [["env", "prod"]]) }, "broken from the start");
  const s = await withServer(t, { repo });
  const api = client(s.url);
  const list = await api.configList({ agent_id: "agent-1", tags, config_versions: { a: 1 } });
  t.is(list.status, 503);
  t.is(list.body.code, "ServerBusy");
  t.regex(list.body.message ?? "", /no valid commit to serve \(no valid commit is loaded: HEAD [0-9a-f]{12} fails validation/, "the answer names the reason");
  t.deepEqual(list.body.config_update_infos, [], "no config is reported, least of all as DELETED");
  t.not((await statusOf(s.url)).notServable, null, "not servable");
  const ready = await send(s.url, "GET", "/readyz", "");
  t.is(ready.status, 503);
  // /readyz needs no token: it says that HEAD fails, not the file or the parser's message (/status does).
  t.regex(ready.body.toString(), /no valid commit is loaded: HEAD [0-9a-f]{12} fails validation \(1 problem\(s\); see \/status\)/);
  t.notRegex(ready.body.toString(), /configs\/a\.yaml|YAML syntax error/);
  const status = JSON.parse((await send(s.url, "GET", "/status", "")).body.toString()) as { notServable: string | null };
  t.regex(status.notServable ?? "", /^no valid commit is loaded: HEAD/);

  // The next valid commit is served at once.
  commitFiles(repo, { "configs/a.yaml": configYaml("a", "fixed\n") }, "fix a");
  await waitFor(async () => (await statusOf(s.url)).notServable === null);
  const fixed = await api.configList({ agent_id: "agent-1", tags, config_versions: {} });
  t.is(fixed.status, 200);
  t.deepEqual(fixed.body.config_update_infos.map((i) => [i.config_name, i.update_status]), [["a", UpdateStatus.NEW]]);
  t.is((await api.heartbeat({ agent_id: "agent-1", tags })).status, 200);
  t.is((await statusOf(s.url)).notServable, null, "servable");
});
