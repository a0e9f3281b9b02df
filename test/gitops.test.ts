import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import test from "ava";
import { num, type Client } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { withServer, type TestServer } from "./helpers/server.ts";
import { waitForCommit } from "./helpers/observe.ts";

const commits = (repo: string) => Number(git(repo, "rev-list", "--count", "HEAD").trim());
const lastChange = (repo: string) => git(repo, "show", "--name-status", "--format=", "HEAD").trim().split("\n");
const clean = (repo: string) => git(repo, "status", "--porcelain", "--untracked-files=all");

/** Versions as an agent in the default group sees them (every config of interest is applied there). */
async function versions(api: Client): Promise<Record<string, number>> {
  await api.heartbeat({ agent_id: "version-probe" });
  const res = await api.configList({ agent_id: "version-probe" });
  return Object.fromEntries(res.body.config_update_infos.map((u) => [u.config_name, num(u.config_version as never)]));
}

/** A commit made by a person in the server's repository, then picked up by the server. */
async function handCommit(s: TestServer, files: Record<string, string>, message: string): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(s.repo, path)), { recursive: true });
    writeFileSync(join(s.repo, path), text);
  }
  git(s.repo, "add", "--", ...Object.keys(files));
  git(s.repo, "commit", "-q", "-m", message);
  await waitForCommit(s.url, git(s.repo, "rev-parse", "HEAD").trim());
}

test("each kind of write makes exactly one commit touching one file, and leaves a clean tree", async (t) => {
  const s = await withServer(t);
  const { api } = s;
  const steps: [string, () => Promise<{ body: { code: string } }>, string][] = [
    ["create config", () => api.createConfig({ config_detail: { config_name: "c1", content: "a\n" } }), "A\tconfigs/c1.yaml"],
    ["update config", () => api.updateConfig({ config_detail: { config_name: "c1", content: "b\n" } }), "M\tconfigs/c1.yaml"],
    ["create group", () => api.createGroup({ agent_group: { group_name: "g1", tags: [{ name: "k", value: "v" }] } }), "A\tagent_groups/g1.yaml"],
    ["update group", () => api.updateGroup({ agent_group: { group_name: "g1", description: "d" } }), "M\tagent_groups/g1.yaml"],
    ["apply", () => api.apply({ group_name: "g1", config_name: "c1" }), "M\tagent_groups/g1.yaml"],
    ["apply to default (no file yet)", () => api.apply({ group_name: "default", config_name: "c1" }), "A\tagent_groups/default.yaml"],
    ["remove", () => api.remove({ group_name: "g1", config_name: "c1" }), "M\tagent_groups/g1.yaml"],
    ["delete group", () => api.deleteGroup({ group_name: "g1" }), "D\tagent_groups/g1.yaml"],
    ["remove from default", () => api.remove({ group_name: "default", config_name: "c1" }), "M\tagent_groups/default.yaml"],
    ["delete config", () => api.deleteConfig({ config_name: "c1" }), "D\tconfigs/c1.yaml"],
  ];
  let expected = 0;
  for (const [label, run, change] of steps) {
    t.is((await run()).body.code, "Accept", label);
    expected++;
    t.is(commits(s.repo), expected, label);
    t.deepEqual(lastChange(s.repo), [change], label);
    t.is(clean(s.repo), "", label);
  }
  // The default group's file stays, now with no configs: the state is unchanged for agents.
  t.deepEqual(git(s.repo, "ls-files").trim().split("\n"), ["agent_groups/default.yaml"]);
});

test("a write that changes nothing makes no commit", async (t) => {
  const s = await withServer(t);
  const { api } = s;
  await api.createConfig({ config_detail: { config_name: "c1", agent_type: "t", description: "d", content: "a\n" } });
  await api.createGroup({ agent_group: { group_name: "g1", description: "d", tags: [{ name: "k", value: "v" }, { name: "k2", value: "v2" }] } });
  const head = git(s.repo, "rev-parse", "HEAD");
  t.is((await api.updateConfig({ request_id: "u", config_detail: { config_name: "c1", agent_type: "t", description: "d", content: "a\n" } })).body.message, "Update config success");
  t.is((await api.updateGroup({ agent_group: { group_name: "g1", description: "d", tags: [{ name: "k", value: "v" }, { name: "k2", value: "v2" }] } })).body.message, "Update agent group success");
  t.is(git(s.repo, "rev-parse", "HEAD"), head);
  // Reordering the tags is a change (the file's list changes).
  await api.updateGroup({ agent_group: { group_name: "g1", description: "d", tags: [{ name: "k2", value: "v2" }, { name: "k", value: "v" }] } });
  t.is(commits(s.repo), 3);
});

const trickyContents: Record<string, string> = {
  // Content that starts like a mapping must parse (test/content.test.ts): these two start as text.
  tabs: "tabs\tin text\n\tindented with a tab\n",
  trailingSpaces: "key: value   \nnext:  \n",
  noFinalNewline: "enable: true\ninputs: []",
  crlf: "line1\r\nline2\r\n",
  loneCr: "a\rb",
  unicode: "名前: 日本語 ✓ — ünïcödé 🎉\n",
  leadingSpace: " leading: space\n  more\n",
  emptyLinesAtEnd: "a: 1\n\n\n",
  leadingEmptyLines: "\n\nafter two empty lines\n",
  onlyNewline: "\n",
  onlySpaces: "   ",
  documentMarkers: "---\na: 1\n...\n",
  yamlish: "yaml-looking text\na: 'single'\nb: \"double\" # not a comment\n- [flow, seq]\n{x: y}\n",
  validYaml: "a:\tb\nc: 'single' # a comment\n",
  scalarsThatLookTyped: "true",
  number: "123",
  nul: "null",
  tilde: "~",
  comment: "# only a comment",
  backslashes: "C:\\logs\\*.log\n\\n is not a newline\n",
  controlChars: "bell\x07 esc\x1b del\x7f\n",
  unicodeLineBreaks: "nel\u0085 ls\u2028 ps\u2029 bom\ufeff\n",
  longLine: `${"x".repeat(300)} ${"y".repeat(300)}\n`,
  indentedFirstLineThenLess: "    four\n  two\nzero\n",
  blockIndicators: "|\n>\n|-\n",
  spacesThenNewlines: "a  \n  \n\n",
};

test("config content round-trips byte for byte through the API, GetConfigList and the repository", async (t) => {
  const s = await withServer(t);
  const { api } = s;
  const names = Object.keys(trickyContents);
  for (const name of names) {
    const res = await api.createConfig({ config_detail: { config_name: name, content: trickyContents[name] } });
    t.is(res.body.code, "Accept", name);
  }
  // One hand commit applies them all: the contents under test went through the API, the bindings need not.
  await handCommit(s, { "agent_groups/default.yaml": `group_name: default\nconfigs:\n${names.map((n) => `  - ${n}\n`).join("")}` }, "apply all");
  const check = async (label: string, server: TestServer, expected: Record<string, string>) => {
    for (const name of names) t.is((await server.api.getConfig({ config_name: name })).body.config_detail?.content, expected[name], `${label} GetConfig ${name}`);
    for (const c of (await server.api.listConfigs()).body.config_details) t.is(c.content, expected[c.config_name ?? ""], `${label} ListConfigs ${c.config_name}`);
    await server.api.heartbeat({ agent_id: "rt" });
    const infos = (await server.api.configList({ agent_id: "rt" })).body.config_update_infos;
    t.is(infos.length, names.length);
    for (const u of infos) t.is(u.content, expected[u.config_name ?? ""], `${label} GetConfigList ${u.config_name}`);
  };
  await check("served", s, trickyContents);
  t.is(clean(s.repo), "");

  // Updates edit the existing file in place: every tricky content replaced by the next one.
  const rotated = Object.fromEntries(names.map((n, i) => [n, trickyContents[names[(i + 1) % names.length] as string] as string]));
  for (const name of names) t.is((await api.updateConfig({ config_detail: { config_name: name, content: rotated[name] } })).body.code, "Accept", name);
  await check("updated", s, rotated);

  // A second server reads the same files from git, not from the first one's memory.
  const second = await withServer(t, { repo: s.repo });
  await check("reread", second, rotated);
});

test("agent_type and description round-trip too", async (t) => {
  const { api } = await withServer(t);
  const values = ["true", "123", " padded ", "multi\nline\n", "# hash", "a: b", "", "null", "crlf\r\n", "- dash", "\ta tab forces quotes; a line of spaces follows\n \nand this is over forty characters"];
  for (const [i, v] of values.entries()) {
    t.is((await api.createConfig({ config_detail: { config_name: `c${i}`, agent_type: v, description: v, content: "x" } })).body.code, "Accept");
    const got = (await api.getConfig({ config_name: `c${i}` })).body.config_detail;
    t.deepEqual([got?.agent_type, got?.description], [v, v], JSON.stringify(v));
  }
  for (const [i, v] of values.entries()) {
    t.is((await api.createGroup({ agent_group: { group_name: `g${i}`, description: v, tags: [{ name: v || "n", value: v }] } })).body.code, "Accept");
    const got = (await api.getGroup({ group_name: `g${i}` })).body.agent_group;
    t.deepEqual([got?.description, got?.tags?.[0]?.name, got?.tags?.[0]?.value], [v, v || "n", v], JSON.stringify(v));
  }
});

test("20 concurrent writes all land, one commit each", async (t) => {
  // Twenty queued writes on a loaded CI machine can outlast the default request timeout.
  const s = await withServer(t, { requestTimeoutMs: 0 });
  const names = Array.from({ length: 20 }, (_, i) => `cc-${String(i).padStart(2, "0")}`);
  const results = await Promise.all(names.map((name) => s.api.createConfig({ config_detail: { config_name: name, content: `${name}\n` } })));
  t.deepEqual(results.map((r) => `${r.status} ${r.body.code}`), names.map(() => "200 Accept"));
  t.is(commits(s.repo), 20);
  t.deepEqual((await s.api.listConfigs()).body.config_details.map((c) => c.config_name), names);
  t.deepEqual(git(s.repo, "ls-files").trim().split("\n"), names.map((n) => `configs/${n}.yaml`));
  t.is(clean(s.repo), "");
  // Each commit changed exactly one file.
  const perCommit = git(s.repo, "log", "--format=%x00", "--name-only").split("\0").filter((c) => c.trim() !== "");
  t.deepEqual(perCommit.map((c) => c.trim().split("\n").length), names.map(() => 1));

  // Concurrent applies to the same group file serialize too.
  const applied = await Promise.all(names.map((name) => s.api.apply({ group_name: "default", config_name: name })));
  t.true(applied.every((r) => r.body.code === "Accept"));
  t.is(commits(s.repo), 40);
  t.deepEqual((await s.api.appliedConfigs({ group_name: "default" })).body.config_names, names);
});

/** Builds some history through the API and by hand. */
async function history(s: TestServer): Promise<void> {
  const { api } = s;
  await api.createConfig({ config_detail: { config_name: "c1", content: "one\n" } });
  await api.createConfig({ config_detail: { config_name: "c2", content: "two\n" } });
  await api.apply({ group_name: "default", config_name: "c1" });
  await api.apply({ group_name: "default", config_name: "c2" });
  await handCommit(s, { "README.md": "notes\n" }, "docs");
  await api.updateConfig({ config_detail: { config_name: "c2", content: "two v2\n" } });
}

test("two servers on two clones at the same commit report identical versions", async (t) => {
  const a = await withServer(t);
  await history(a);
  const expected = await versions(a.api);
  t.deepEqual(expected, { c1: 1, c2: 6 });
  const clones = [tempDir("cs-clone-"), tempDir("cs-clone-")];
  for (const dir of clones) git(dir, "clone", "-q", a.repo, ".");
  const [b, c] = await Promise.all(clones.map((repo) => withServer(t, { repo })));
  t.deepEqual(await versions((b as TestServer).api), expected);
  t.deepEqual(await versions((c as TestServer).api), expected);
});

test("versions follow commits: they grow, and only when the config's own file changes", async (t) => {
  const s = await withServer(t);
  const seen: Record<string, number>[] = [];
  const expectVersions = async (label: string, expected: Record<string, number>) => {
    const v = await versions(s.api);
    t.deepEqual(v, expected, label);
    const previous = seen[seen.length - 1];
    if (previous) for (const name of Object.keys(v)) if (name in previous) t.true((v[name] ?? 0) >= (previous[name] ?? 0), `${label}: ${name} never goes down`);
    seen.push(v);
  };
  await history(s); // depths 1-6: c1 created at 1, c2 updated at 6
  await expectVersions("after the API history", { c1: 1, c2: 6 });

  await handCommit(s, { "README.md": "more notes\n" }, "docs again"); // 7
  await expectVersions("a commit to another file", { c1: 1, c2: 6 });

  await s.api.createGroup({ agent_group: { group_name: "g", tags: [{ name: "k", value: "v" }] } }); // 8
  await s.api.apply({ group_name: "g", config_name: "c1" }); // 9
  await expectVersions("group-only commits through the API", { c1: 1, c2: 6 });

  const groupText = git(s.repo, "show", "HEAD:agent_groups/g.yaml").replace("group_name: g", "# edited by hand\ngroup_name: g");
  await handCommit(s, { "agent_groups/g.yaml": groupText }, "comment a group"); // 10
  await expectVersions("a group-only commit by hand", { c1: 1, c2: 6 });

  await handCommit(s, { "configs/c1.yaml": "config_name: c1\ncontent: |\n  one, edited by hand\n" }, "edit c1"); // 11
  await expectVersions("a config edited by hand", { c1: 11, c2: 6 });
  t.is((await s.api.getConfig({ config_name: "c1" })).body.config_detail?.content, "one, edited by hand\n");

  // A merge: the branch changed c2; the merge commit, on the first-parent chain, carries the change.
  git(s.repo, "checkout", "-q", "-b", "feature");
  writeFileSync(join(s.repo, "configs/c2.yaml"), "config_name: c2\ncontent: |\n  two from a branch\n");
  git(s.repo, "commit", "-q", "-am", "change c2 on a branch");
  git(s.repo, "checkout", "-q", "main");
  await handCommit(s, { "README.md": "main moved on\n" }, "docs on main"); // 12
  git(s.repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature"); // 13
  await waitForCommit(s.url, git(s.repo, "rev-parse", "HEAD").trim());
  await expectVersions("a merge", { c1: 11, c2: 13 });
  t.is((await s.api.getConfig({ config_name: "c2" })).body.config_detail?.content, "two from a branch\n");

  // Deleted and created again: a new, larger version.
  await s.api.remove({ group_name: "default", config_name: "c2" }); // 14
  await s.api.deleteConfig({ config_name: "c2" }); // 15
  await s.api.createConfig({ config_detail: { config_name: "c2", content: "two again\n" } }); // 16
  await s.api.apply({ group_name: "default", config_name: "c2" }); // 17
  await expectVersions("deleted and re-created", { c1: 11, c2: 16 });
  t.is(commits(s.repo), 18); // 17 first-parent commits plus the branch commit

  // A server reading the whole history at once agrees with the one that followed it commit by commit.
  const fresh = await withServer(t, { repo: s.repo });
  t.deepEqual(await versions(fresh.api), { c1: 11, c2: 16 });
});

test("an agent reporting the version it was given gets SAME until its config's file changes", async (t) => {
  const s = await withServer(t);
  await history(s);
  await s.api.heartbeat({ agent_id: "a" });
  const reported = await versions(s.api);
  const statuses = async () => (await s.api.configList({ agent_id: "a", config_versions: reported })).body.config_update_infos.map((u) => `${u.config_name}:${u.update_status}`);
  t.deepEqual(await statuses(), ["c1:0", "c2:0"]);
  await s.api.createGroup({ agent_group: { group_name: "other" } });
  await handCommit(s, { "README.md": "x\n" }, "docs");
  t.deepEqual(await statuses(), ["c1:0", "c2:0"]);
  await s.api.updateConfig({ config_detail: { config_name: "c1", content: "one v2\n" } });
  t.deepEqual(await statuses(), ["c1:3", "c2:0"]);
});

