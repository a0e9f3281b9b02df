// A bounded fuzz test (issue 23): thousands of random, mutated and hostile requests over every
// route of the real `configserver serve` process, then: no undocumented 500, every answer
// well-formed for its route, the process alive and small, the repository clean with no commit
// that no answered write explains. FUZZ_SEED=<n> replays a run (the test prints its seed).
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import test from "ava";
import { runCli } from "./helpers/cli.ts";
import { answerProblem, exchange, type Answer } from "./helpers/fuzzAnswer.ts";
import { fuzzRequest, type FuzzRequest } from "./helpers/fuzzRequest.ts";
import { FUZZ_ROUTES } from "./helpers/fuzzRoutes.ts";
import { git, tempDir } from "./helpers/git.ts";
import { assertRepoClean } from "./helpers/repoChecks.ts";
import { prng, seededRandom } from "./helpers/seeded.ts";
import { serveProcess } from "./helpers/serveProcess.ts";

/** Issue 23 asks for at least 2,000; FUZZ_COUNT runs more (or fewer, to debug) by hand. */
const COUNT = Number(process.env.FUZZ_COUNT ?? 2_200);
const MIN_COUNT = Math.min(2_000, COUNT);
/** Requests in flight at once: writes interleave with reads and agents, as in production. */
const CONCURRENCY = 4;
/** The sending stops after this long even if COUNT is not reached (the file's timeout is 150 s); a run takes 17-45 s on a busy 2-core machine. */
const BUDGET_MS = 75_000;
/** A request unanswered this long is a hang (the server's own --request-timeout is 30 s). */
const ANSWER_MS = 35_000;
/**
 * The largest resident set the server may reach. A fresh server is ~100 MB and stays well under
 * 200 MB through this run; the unbounded inputs issue 23 found (alias expansion, agent bodies
 * kept whole, huge pushed files) took it past 600 MB. 400 MB leaves room for V8's heap growth
 * and GC timing while catching any input the server keeps or expands without a bound.
 */
const RSS_BOUND_BYTES = 400 * 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

const describe = (i: number, r: FuzzRequest) => `#${i} ${r.method} ${r.path.slice(0, 120)} [${r.route.route}; ${r.label}]`;

test("fuzz: 2,200 random, mutated and hostile requests over every route leave the server alive, small, honest and its repository clean", async (t) => {
  t.timeout(150_000);
  const seedRandom = seededRandom(t, "FUZZ_SEED");
  const base = Math.floor(seedRandom() * 2 ** 32);
  // Request i has its own PRNG: the same seed sends the same requests, whatever order answers come in.
  const requestRng = (i: number) => prng((base ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);

  const repo = join(tempDir("cs-fuzz-"), "repo");
  t.teardown(() => rmSync(dirname(repo), { recursive: true, force: true }));
  const init = await runCli(["init", repo, "--no-serve-hint"]);
  t.is(init.code, 0, init.stderr);
  const secret = "fuzz-webhook-secret";
  const server = serveProcess(["--repo", repo, "--port", "0", "--webhook-secret", secret, "--v2-long-poll", "2s"]);
  t.teardown(() => {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
  });
  const url = await server.url();
  const pid = server.child.pid as number;
  const start = git(repo, "rev-parse", "HEAD").trim();

  const problems: string[] = [];
  const closed: string[] = [];
  const answered = new Map<string, Map<number, number>>(FUZZ_ROUTES.map((r) => [`${r.method} ${r.route}`, new Map()]));
  let okWrites = 0;
  const slowest: [number, string][] = [];
  let peakRss = rssBytes(pid);
  let next = 0;
  let dead: Error | undefined;
  const began = Date.now();
  const worker = async () => {
    while (next < COUNT && !dead && Date.now() - began < BUDGET_MS) {
      const i = next++;
      const r = fuzzRequest(requestRng(i), FUZZ_ROUTES, secret);
      let a: Answer | { closed: string };
      const sent = Date.now();
      try {
        a = await exchange(url, r, ANSWER_MS);
        slowest.push([Date.now() - sent, describe(i, r)]);
      } catch (e) {
        problems.push(`${describe(i, r)}: ${(e as Error).message}`);
        if ((e as NodeJS.ErrnoException).code === "ECONNREFUSED") dead = e as Error;
        continue;
      }
      if ("closed" in a) {
        closed.push(`${describe(i, r)}: ${a.closed}`);
        // Only node:http itself (a request it cannot parse) or a refusal of a body over a limit,
        // answered before the body was all sent, may end a connection without an answer. The
        // limits are settings (agent routes have a smaller one): any body over 8 KiB may meet one.
        if (!r.raw && r.body.length <= 8 * 1024) problems.push(`${describe(i, r)}: connection closed without an answer (${a.closed})`);
        continue;
      }
      const byStatus = answered.get(`${r.route.method} ${r.route.route}`) as Map<number, number>;
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      const problem = answerProblem(r, a);
      if (problem) problems.push(`${describe(i, r)}: ${problem}`);
      if (a.status === 200 && r.mayWrite) okWrites++;
      if (i % 100 === 0) peakRss = Math.max(peakRss, rssBytes(pid));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (Date.now() - began) / 1000;

  t.log(`${next} requests in ${seconds.toFixed(1)} s; ${okWrites} writes answered 200; ${closed.length} connections closed without an answer; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB`);
  // What each route answered, the slowest answers and the closed connections help read a failure (FUZZ_VERBOSE=1 shows them anyway).
  if (problems.length || process.env.FUZZ_VERBOSE) {
    t.log([...answered].map(([route, s]) => `${route}: ${[...s].sort(([a], [b]) => a - b).map(([st, n]) => `${st}×${n}`).join(" ")}`).join("\n"));
    t.log(`slowest:\n${slowest.sort((a, b) => b[0] - a[0]).slice(0, 15).map(([ms, d]) => `${ms} ms ${d}`).join("\n")}`);
    if (closed.length) t.log(`closed without an answer:\n${closed.slice(0, 30).join("\n")}`);
  }
  t.deepEqual(problems.slice(0, 60), [], `${problems.length} bad answers (replay with the FUZZ_SEED above)`);
  t.true(next >= MIN_COUNT, `only ${next} requests were sent within ${BUDGET_MS} ms`);
  // Every route was reached and answered at least once.
  t.deepEqual([...answered].filter(([, s]) => s.size === 0).map(([route]) => route), [], "routes never answered");

  // The process is alive, answers /healthz, and stayed under its memory bound.
  t.is(server.child.exitCode, null, `the server exited: ${server.stderr()}`);
  const health = await exchange(url, { route: FUZZ_ROUTES[0] as never, label: "health", method: "GET", path: "/healthz", headers: {}, body: Buffer.alloc(0), mayWrite: false }, ANSWER_MS);
  t.like(health, { status: 200 });
  t.deepEqual("body" in health ? JSON.parse(health.body.toString("utf8")) : undefined, { status: "ok" });
  peakRss = Math.max(peakRss, rssBytes(pid));
  t.true(peakRss < RSS_BOUND_BYTES, `peak RSS ${peakRss} bytes is over the ${RSS_BOUND_BYTES}-byte bound`);
  // Nothing was logged as a fault of the server other than a documented timeout.
  const faults = server.logs.filter((l) => Number(l.level) >= 50 && l.code !== "RequestTimeout");
  t.deepEqual(faults.slice(0, 10).map((l) => `${String(l.msg)} ${String(l.path ?? "")} ${JSON.stringify(l.err ?? l.message ?? "")}`.slice(0, 400)), [], "error-level log lines");

  // The repository: clean, fsck-clean, and every new commit explained by a write answered 200.
  assertRepoClean(t, repo, "after the fuzz");
  const commits = git(repo, "log", "--format=%H %cn", `${start}..HEAD`).trim().split("\n").filter(Boolean);
  t.log(`${commits.length} new commits for ${okWrites} writes answered 200`);
  t.true(commits.length <= okWrites, `${commits.length} new commits for ${okWrites} writes answered 200`);
  t.true(okWrites > 0, "some writes succeeded (the fuzz exercised the write path)");
  t.deepEqual(commits.filter((c) => !c.endsWith(" configserver")), [], "every new commit was made by the server");
  t.is(git(repo, "rev-list", "--merges", `${start}..HEAD`).trim(), "", "no merge commits");

  // And it still stops cleanly.
  server.child.kill("SIGTERM");
  t.is(await server.exited, 0);
});
