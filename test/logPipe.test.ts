import { rmSync } from "node:fs";
import test from "ava";
import { client, send } from "./helpers/client.ts";
import { tempDir } from "./helpers/git.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor } from "./helpers/server.ts";

// Logging never blocks serving: a log pipe whose reader stops reading (a stuck log shipper) or
// goes away must cost log lines, never answers or the shutdown.

// Far beyond the test's own timeout: a shutdown that waited for the log pipe (and was cut at this
// deadline, or by the last resort after it, which exits 1) could not end the test in time. An
// exit with code 0 is a shutdown that finished on its own.
const SHUTDOWN_TIMEOUT = "10m";

async function heartbeats(url: string, count: number): Promise<number[]> {
  const api = client(url);
  const statuses: number[] = [];
  // Sequential batches of 20: enough to fill a 64 KiB pipe many times over at debug level.
  for (let i = 0; i < count; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, (_, k) => api.heartbeat({ agent_id: `agent-${i + k}`, tags: { k: "v" } })));
    statuses.push(...batch.map((r) => r.status));
  }
  return statuses;
}

async function droppedLines(url: string): Promise<number> {
  const text = (await send(url, "GET", "/metrics", "")).body.toString();
  return Number(/^configserver_log_lines_dropped_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** SIGTERM, then the process's exit code once it has exited on its own (the test's timeout bounds the wait). */
async function stop(p: ReturnType<typeof serveProcess>): Promise<number | string> {
  p.child.kill("SIGTERM");
  return p.exited;
}

test("a server whose stdout pipe nobody reads keeps answering and exits on SIGTERM without waiting for the pipe", async (t) => {
  const repo = tempDir("cs-logpipe-");
  const p = serveProcess(["--repo", repo, "--port", "0", "--log-level", "debug", "--shutdown-timeout", SHUTDOWN_TIMEOUT], {}, undefined, { stopReadingStdout: true });
  t.teardown(() => {
    p.child.kill("SIGKILL");
    rmSync(repo, { recursive: true, force: true });
  });
  const url = await p.url();
  const statuses = await heartbeats(url, 1000);
  t.deepEqual(new Set(statuses), new Set([200]), "every request answered while the log pipe is full");
  t.is(await stop(p), 0, p.stderr());
});

test("a server whose stdout pipe was closed keeps answering, counts the dropped lines, and exits cleanly", async (t) => {
  const repo = tempDir("cs-logpipe-");
  const p = serveProcess(["--repo", repo, "--port", "0", "--log-level", "debug", "--shutdown-timeout", SHUTDOWN_TIMEOUT]);
  t.teardown(() => {
    p.child.kill("SIGKILL");
    rmSync(repo, { recursive: true, force: true });
  });
  const url = await p.url();
  p.child.stdout?.destroy();
  const statuses = await heartbeats(url, 200);
  t.deepEqual(new Set(statuses), new Set([200]));
  const dropped = await waitFor(async () => ((await droppedLines(url)) > 0 ? droppedLines(url) : 0), { timeoutMs: 10_000 });
  t.true(dropped > 0, `${dropped} lines dropped`);
  t.is(await stop(p), 0, p.stderr());
});
