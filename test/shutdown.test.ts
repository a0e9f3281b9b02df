import test from "ava";
import { client, send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor, withServer } from "./helpers/server.ts";

interface Outcome {
  readonly acked: string[];
  readonly refused: { name: string; code: string }[];
}

/** Writers that keep creating configs until the server stops answering. */
function writeStream(url: string, writers: number) {
  const api = client(url);
  const outcome: Outcome = { acked: [], refused: [] };
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let n = 0; ; n++) {
      const name = `w${w}-${String(n).padStart(4, "0")}`;
      try {
        const r = await api.createConfig({ config_detail: { config_name: name, content: `${name}\n` } });
        if (r.status === 200 && r.body.code === "Accept") outcome.acked.push(name);
        else outcome.refused.push({ name, code: r.body.code });
      } catch {
        return; // connection refused or closed: the server is gone
      }
    }
  });
  return { outcome, done: Promise.all(loops) };
}

const committedConfigs = (repo: string) => new Set(git(repo, "ls-tree", "-r", "--name-only", "HEAD", "configs/").split("\n").filter(Boolean).map((p) => p.replace(/^configs\/(.*)\.yaml$/, "$1")));

test("SIGTERM during a stream of writes: every answered write is committed, the tree is clean, exit 0", async (t) => {
  const repo = tempDir("cs-shutdown-");
  const p = serveProcess(["--repo", repo, "--port", "0", "--shutdown-timeout", "10s"]);
  t.teardown(() => p.child.kill("SIGKILL"));
  const url = await p.url();
  const stream = writeStream(url, 4);
  await waitFor(() => stream.outcome.acked.length >= 6, { timeoutMs: 30_000 });
  p.child.kill("SIGTERM");
  const code = await p.exited;
  await stream.done;
  t.is(code, 0, p.stderr());
  t.true(stream.outcome.acked.length >= 6);
  const inRepo = committedConfigs(repo);
  for (const name of stream.outcome.acked) t.true(inRepo.has(name), `acknowledged ${name} is committed`);
  // And nothing was committed without an answer: no write was cut between its commit and its reply.
  t.deepEqual([...inRepo].sort(), [...stream.outcome.acked].sort());
  for (const r of stream.outcome.refused) {
    t.is(r.code, "ServerBusy", r.name);
    t.false(inRepo.has(r.name), `refused ${r.name} left no trace`);
  }
  t.is(git(repo, "status", "--porcelain", "--untracked-files=all"), "");
  t.truthy(p.logs.find((l) => l.msg === "stopped"), "logs flushed to the last line");
});

test("close() lets in-flight writes commit and refuses writes that have not started", async (t) => {
  const s = await withServer(t);
  const api = s.api;
  const inFlight = Array.from({ length: 8 }, (_, i) => api.createConfig({ config_detail: { config_name: `c${i}`, content: "x" } }).then((r) => r, () => undefined));
  await waitFor(async () => /configserver_write_duration_seconds_count\{result="committed"\} [1-9]/.test((await send(s.url, "GET", "/metrics", "")).body.toString()));
  await s.close();
  const results = await Promise.all(inFlight);
  const inRepo = committedConfigs(s.repo);
  for (const [i, r] of results.entries()) {
    if (r?.status === 200) t.true(inRepo.has(`c${i}`), `c${i} answered 200 and committed`);
    else if (r) {
      t.is(r.body.code, "ServerBusy");
      t.false(inRepo.has(`c${i}`));
    }
  }
  t.is(git(s.repo, "status", "--porcelain", "--untracked-files=all"), "");
});
