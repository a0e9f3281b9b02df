import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { git, tempDir } from "./helpers/git.ts";
import { serveProcess } from "./helpers/serveProcess.ts";

const template = fileURLToPath(new URL("../config-repo-template", import.meta.url));

/** No stack trace, no JSON: what a person reads. */
function plain(t: { true(v: boolean, m?: string): void; false(v: boolean, m?: string): void }, stderr: string, maxLines = 2): void {
  const lines = stderr.trimEnd().split("\n");
  t.true(lines.length >= 1 && lines.length <= maxLines, `one or two lines, got:\n${stderr}`);
  t.false(/^\s+at /m.test(stderr), `no stack trace:\n${stderr}`);
  t.false(stderr.trimStart().startsWith("{"), `not a JSON log line:\n${stderr}`);
}

test("--version prints the package's version", async (t) => {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  for (const flag of ["--version", "-V"]) {
    const r = await runCli([flag]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, `${version}\n`);
  }
});

test("validate cannot check a missing path, a file, or a folder that is not a config repository: exit 2, saying why", async (t) => {
  const dir = tempDir("cs-notrepo-");
  writeFileSync(join(dir, "notes.txt"), "hello\n");
  const gitRepo = tempDir("cs-otherrepo-");
  git(gitRepo, "init", "-q");
  writeFileSync(join(gitRepo, "README.md"), "not configs\n");
  const cases: [string[], RegExp][] = [
    [["validate", join(dir, "nope")], /\S+\/nope does not exist: pass the config repository's folder/],
    [["validate", join(dir, "notes.txt")], /\S+\/notes\.txt is a file: pass the config repository's folder/],
    [["validate", dir], /\S+ is not a config repository: it has none of the folders configs\/, agent_groups\/, instance_configs\//],
    [["validate", gitRepo, "--format", "github"], /\S+ is not a config repository/],
    [["validate", "--head", "HEAD", dir], /\S+ is not in a git repository: --base and --head compare commits/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    t.is(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    t.is(r.stdout, "", "no `ok:` line");
    t.regex(r.stderr, new RegExp(`^configserver validate: ${message.source}`));
    plain(t, r.stderr, 1);
  }
});

test("validate of a config repository with nothing in it yet is ok", async (t) => {
  const dir = tempDir("cs-empty-");
  mkdirSync(join(dir, "configs"));
  const ok = await runCli(["validate", dir]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^ok: 0 config\(s\), 0 instance config\(s\), 0 agent group\(s\)$/m);
});

test("options that need another option say so: --preview-file without --base, --token without --server, --server with --repo", async (t) => {
  const dir = tempDir("cs-opts-");
  cpSync(template, dir, { recursive: true });
  const preview = await runCli(["validate", "--preview-file", join(dir, "p.md"), dir]);
  t.is(preview.code, 2, preview.stdout);
  t.regex(preview.stderr, /^configserver validate: --preview-file needs --base REV/);
  plain(t, preview.stderr, 1);
  const token = await runCli(["rollback", "x", "--to", "1", "--token", "t", "--repo", dir]);
  t.is(token.code, 2);
  t.regex(token.stderr, /--token is the User API token of a running server: it needs --server URL/);
  const both = await runCli(["rollback", "x", "--to", "1", "--server", "http://127.0.0.1:1", "--repo", dir]);
  t.is(both.code, 2);
  t.regex(both.stderr, /option '--server <url>' cannot be used with option '--repo <dir>'/);
  // Any usage error is 2, not 1 (which validate keeps for "has problems").
  const unknown = await runCli(["validate", "--no-such-option"]);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown option '--no-such-option'/);
});

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => resolve(s));
  });
}

test("start-up failures print what, where and how to fix in one or two plain lines, and exit 2", async (t) => {
  const dir = tempDir("cs-startup-");
  const file = join(dir, "a-file");
  writeFileSync(file, "not a folder\n");
  const notGit = join(dir, "not-git");
  mkdirSync(notGit);
  writeFileSync(join(notGit, "notes.txt"), "hello\n");
  const busy = await listen();
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;

  const cases: [string[], RegExp][] = [
    [["--repo", file, "--port", "0"], /--repo: ".*a-file" is a file, not a folder: point it at the config repository's folder/],
    [["--repo", notGit, "--port", "0"], /not-git is not empty and not a git repository: point --repo at a git repository, or at a new or empty directory/],
    [["--repo", join(dir, "new"), "--port", String(port)], new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use[^\\n]*\\nchoose a free port with --port`)],
    // With workers the port is bound by the first worker's listen: the same message.
    [["--repo", join(dir, "new-2"), "--port", String(port), "--workers", "2"], new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use[^\\n]*\\nchoose a free port with --port`)],
  ];
  for (const [args, message] of cases) {
    const p = serveProcess(args);
    t.is(await p.exited, 2, p.stderr());
    t.regex(p.stderr(), /^configserver serve: /);
    t.regex(p.stderr(), message);
    plain(t, p.stderr().replace(/^configserver serve: invalid settings \(1 problem\):\n/, ""));
    // The log (stdout) has no error record with a stack either.
    t.false(p.logs.some((l) => (l.level as number) >= 50), JSON.stringify(p.logs));
  }
});
