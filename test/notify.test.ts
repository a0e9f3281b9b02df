import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import test from "ava";
import pino from "pino";
import { send } from "./helpers/client.ts";
import { git, tempDir } from "./helpers/git.ts";
import { bareRemote, commitFiles, configYaml, groupYaml, repoWith } from "./helpers/repo.ts";
import { deadPort, receiver } from "./helpers/receiver.ts";
import { serveProcess } from "./helpers/serveProcess.ts";
import { waitFor, withServer } from "./helpers/server.ts";

// --notify-url (docs/rollouts.md, "Events"): real receivers on 127.0.0.1, real git, the real
// server; the waits between retries are shortened through the code-only `notifyTuning` option.

const SECRET = "n0tify-S3CRET-9931";
const PATH_SECRET = "Xq7pathSecretToken";
const good = { "configs/a.yaml": configYaml("a", "a1\n"), "agent_groups/default.yaml": groupYaml("default", ["a"]) };
const broken = { "configs/a.yaml": "config_name: [unclosed\n" };
const fast = { baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 5000 };

/** A pino logger at debug whose lines are kept (as text) for the test to read. */
function capturedLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  let text = "";
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString("utf8"); done(); } });
  const logger = pino({ level: "debug" }, stream);
  return { logger, text: () => text, lines: () => text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const hmac = (raw: Buffer) => `sha256=${createHmac("sha256", SECRET).update(raw).digest("hex")}`;

async function metric(url: string, series: string): Promise<number> {
  const text = (await send(url, "GET", "/metrics", "")).body.toString();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

test("a pushed commit that fails validation reaches the receiver once, signed like the incoming webhook, with a text", async (t) => {
  const r = await receiver(t);
  const remote = bareRemote(good);
  const repo = join(tempDir("cs-notify-"), "repo");
  const logs = capturedLogger();
  const s = await withServer(t, {
    repo, remote: remote.url, syncIntervalMs: 50, logger: logs.logger,
    notifyUrl: [`${r.url}/services/T1/${PATH_SECRET}`], notifySecret: SECRET, notifyTuning: fast,
  });
  const served = s.store.state.commit;
  const bad = commitFiles(remote.person, broken, "break a");
  git(remote.person, "push", "-q", "origin", "main");
  const first = await waitFor(() => r.got[0]);
  t.is(first.path, `/services/T1/${PATH_SECRET}`);
  t.is(first.headers["content-type"], "application/json");
  t.is(first.headers["x-configserver-event"], "commit.refused");
  t.is(first.headers["x-hub-signature-256"], hmac(first.raw), "signed: HMAC-SHA256 of the raw body with the notify secret");
  const body = first.json as { type: string; time: string; server: { host: string; pid: number }; text: string; commit: string; served: string; problems: { file: string; line: number }[]; problemsTotal: number };
  t.is(body.type, "commit.refused");
  t.is(body.commit, bad);
  t.is(body.served, served);
  t.is(new Date(body.time).toISOString(), body.time);
  t.is(typeof body.server.host, "string");
  t.is(body.server.pid, process.pid);
  t.true(body.problems.length >= 1 && body.problems.every((p) => p.file === "configs/a.yaml" && p.line >= 1));
  t.is(body.problemsTotal, body.problems.length);
  t.regex(body.text, new RegExp(`^Commit ${bad.slice(0, 12)} refused by validation \\(\\d+ problems?\\); still serving commit ${served.slice(0, 12)}\\.\\n- configs/a\\.yaml:\\d+:\\d+: error: `));

  // The same refused HEAD is fetched and looked at again by every sync: no second event for it.
  const syncs = await metric(s.url, 'configserver_syncs_total{result="ok"}');
  await waitFor(async () => (await metric(s.url, 'configserver_syncs_total{result="ok"}')) >= syncs + 5);
  commitFiles(remote.person, { "configs/a.yaml": configYaml("a", "a2\n") }, "fix a");
  git(remote.person, "push", "-q", "origin", "main");
  const fixed = git(remote.person, "rev-parse", "HEAD").trim();
  await waitFor(() => s.store.state.commit === fixed);
  const bad2 = commitFiles(remote.person, { "configs/a.yaml": "content: 3\n" }, "break a again");
  git(remote.person, "push", "-q", "origin", "main");
  await waitFor(() => r.got.length >= 2);
  t.deepEqual(r.got.map((g) => g.json.commit), [bad, bad2], "one event per refused commit, in order");
  t.is((r.got[1]?.json as { served: string }).served, fixed);
  t.is(await metric(s.url, 'configserver_notifications_total{result="sent",type="commit.refused"}'), 2);
  t.false(logs.text().includes(SECRET), "the secret is in no log line");
  t.false(logs.text().includes(PATH_SECRET), "the URL's path secret is in no log line");
});

test("a refused commit that becomes HEAD again (reset away and back) sends no second event", async (t) => {
  const r = await receiver(t);
  const repo = repoWith("cs-notify-reset-", good);
  const s = await withServer(t, { repo, notifyUrl: [r.url], notifySecret: SECRET, notifyTuning: fast });
  const start = s.store.state.commit;
  const status = async () => JSON.parse((await send(s.url, "GET", "/status", "")).body.toString()) as { commit: string; refused: { commit: string } | null };
  const bad = commitFiles(repo, broken, "break a");
  await waitFor(() => r.got.length >= 1);
  git(repo, "reset", "-q", "--hard", start);
  await waitFor(async () => (await status()).refused === null);
  git(repo, "reset", "-q", "--hard", bad);
  await waitFor(async () => (await status()).refused?.commit === bad);
  const bad2 = commitFiles(repo, { "configs/a.yaml": "content: 3\n" }, "break a again");
  await waitFor(() => r.got.length >= 2);
  t.deepEqual(r.got.map((g) => g.json.commit), [bad, bad2]);
});

test("a receiver answering 500 twice gets the event on the third attempt, and a later event after it", async (t) => {
  const r = await receiver(t, [500, 500]);
  const logs = capturedLogger();
  const repo = repoWith("cs-notify-", good);
  const s = await withServer(t, { repo, logger: logs.logger, notifyUrl: [r.url], notifySecret: SECRET, notifyTuning: fast });
  const to = { version: 2, commit: "c".repeat(40) };
  s.notifier.emit({ type: "rollout.started", kind: "pipeline", name: "a", to, from: { version: 1, commit: "b".repeat(40) }, waves: 3 });
  s.notifier.emit({ type: "rollout.completed", kind: "pipeline", name: "a", to, waves: 3 });
  await waitFor(() => r.got.length >= 4);
  t.deepEqual(r.got.map((g) => [g.json.type, g.status]), [["rollout.started", 500], ["rollout.started", 500], ["rollout.started", 200], ["rollout.completed", 200]]);
  const ids = r.got.map((g) => g.headers["x-configserver-delivery"]);
  t.is(new Set(ids.slice(0, 3)).size, 1, "every attempt of one event carries its delivery id");
  t.not(ids[3], ids[0]);
  for (const g of r.got) t.is(g.headers["x-hub-signature-256"], hmac(g.raw));
  t.deepEqual(r.got.slice(0, 3).map((g) => g.raw.toString()), Array(3).fill(r.got[0]?.raw.toString()), "a retry sends the same bytes");
  t.is((r.got[2]?.json as { text: string }).text, "Rollout of config a started: version 2 (commit cccccccccccc) in 3 waves; agents outside the current wave keep version 1.");
  t.is(await metric(s.url, 'configserver_notifications_total{result="sent",type="rollout.started"}'), 1);
  t.is(await metric(s.url, 'configserver_notifications_total{result="failed",type="rollout.started"}'), 0);
  t.is(logs.lines().filter((l) => l.msg === "notification not delivered; retrying").length, 2);
});

test("with too many events waiting for a URL, the oldest waiting one is dropped and counted; the rest arrive in order", async (t) => {
  const r = await receiver(t, [500]);
  const repo = repoWith("cs-notify-", good);
  const s = await withServer(t, { repo, notifyUrl: [r.url], notifyTuning: { ...fast, queueLimit: 2 } });
  const to = { version: 2, commit: "c".repeat(40) };
  // Wave 1 is being delivered (its first answer is a 500); 2 and 3 wait; 4 pushes 2 out.
  for (const wave of [1, 2, 3, 4]) s.notifier.emit({ type: "rollout.wave_advanced", kind: "pipeline", name: "a", to, wave, waves: 4 });
  await waitFor(() => r.got.length >= 4);
  t.deepEqual(r.got.map((g) => [g.json.wave, g.status]), [[1, 500], [1, 200], [3, 200], [4, 200]]);
  t.is(r.got[0]?.headers["x-hub-signature-256"], undefined, "no secret: unsigned");
  t.is(await metric(s.url, 'configserver_notifications_total{result="dropped",type="rollout.wave_advanced"}'), 1);
  t.is(await metric(s.url, 'configserver_notifications_total{result="sent",type="rollout.wave_advanced"}'), 3);
});

test("a receiver that is down: retried with growing waits, given up after the attempts, the oldest waiting dropped when too many wait; counted", async (t) => {
  const port = await deadPort();
  const logs = capturedLogger();
  const repo = repoWith("cs-notify-", good);
  const url = `http://hook-user:${SECRET}@127.0.0.1:${port}/services/T1/${PATH_SECRET}?token=${PATH_SECRET}`;
  const s = await withServer(t, { repo, logger: logs.logger, notifyUrl: [url], notifyTuning: { ...fast, attempts: 3, queueLimit: 2 } });
  const to = { version: 2, commit: "c".repeat(40) };
  // The first is being delivered at once; two more wait; the fourth pushes the oldest waiting out.
  for (const wave of [1, 2, 3, 4]) s.notifier.emit({ type: "rollout.wave_advanced", kind: "pipeline", name: "a", to, wave, waves: 4 });
  const series = (result: string) => `configserver_notifications_total{result="${result}",type="rollout.wave_advanced"}`;
  await waitFor(async () => (await metric(s.url, series("failed"))) === 3);
  t.is(await metric(s.url, series("dropped")), 1);
  t.is(await metric(s.url, series("sent")), 0);
  const retries = logs.lines().filter((l) => l.msg === "notification not delivered; retrying");
  t.is(retries.length, 6, "two retries for each of the three delivered");
  for (const l of retries) t.is(l.level, 40, "warn");
  // Exponential: the second retry of an event waits at least as long as the first (10 ms base: 5-10, then 10-20 ms).
  const waits = retries.map((l) => l.retryInMs as number);
  for (let i = 0; i < waits.length; i += 2) t.true((waits[i + 1] as number) >= (waits[i] as number) && (waits[i + 1] as number) >= 10, String(waits));
  const gaveUp = logs.lines().filter((l) => l.msg === "notification not delivered; given up");
  t.is(gaveUp.length, 3);
  t.is(gaveUp[0]?.url, `http://***@127.0.0.1:${port}/services/***?***`);
  t.is(logs.lines().filter((l) => l.msg?.toString().startsWith("notification dropped")).length, 1);
  t.false(logs.text().includes(SECRET), "the credentials of the URL are in no log line");
  t.false(logs.text().includes(PATH_SECRET));
});

test("stopping the server gives waiting events a bounded last chance, then drops them (counted) instead of hanging", async (t) => {
  const r = await receiver(t, [0]);
  const repo = repoWith("cs-notify-", good);
  const s = await withServer(t, { repo, notifyUrl: [r.url], notifyTuning: { ...fast, timeoutMs: 60_000, closeMs: 100 } });
  const to = { version: 2, commit: "c".repeat(40) };
  for (const wave of [1, 2, 3]) s.notifier.emit({ type: "rollout.wave_advanced", kind: "pipeline", name: "a", to, wave, waves: 3 });
  await waitFor(() => r.got.length >= 1);
  await s.close();
  const text = await s.metrics.text();
  t.regex(text, /configserver_notifications_total\{result="dropped",type="rollout.wave_advanced"\} 3\n/);
  t.notRegex(text, /result="(sent|failed)"/);
  s.notifier.emit({ type: "rollout.completed", kind: "pipeline", name: "a", to, waves: 3 });
  t.regex(await s.metrics.text(), /configserver_notifications_total\{result="dropped",type="rollout.completed"\} 1\n/, "after close, an event is dropped and counted");
  t.is(r.got.length, 1);
});

test("the real serve: repeated --notify-url and --notify-secret-file; a start on a refused HEAD is sent to both; the log shows neither secret", async (t) => {
  const [a, b] = [await receiver(t), await receiver(t)];
  const repo = repoWith("cs-notify-cli-", good);
  const bad = commitFiles(repo, broken, "break a");
  const secretFile = join(tempDir("cs-notify-secret-"), "secret");
  writeFileSync(secretFile, `${SECRET}\n`);
  const p = serveProcess(["--repo", repo, "--port", "0", "--log-level", "debug", "--notify-url", `${a.url}/services/T1/${PATH_SECRET}`, "--notify-url", b.url, "--notify-secret-file", secretFile]);
  t.teardown(() => void p.child.kill("SIGKILL"));
  await p.url();
  await waitFor(() => a.got.length >= 1 && b.got.length >= 1);
  for (const r of [a, b]) {
    t.is(r.got[0]?.json.commit, bad);
    t.is(r.got[0]?.headers["x-hub-signature-256"], hmac(r.got[0]?.raw as Buffer));
  }
  const settings = p.logs.find((l) => l.msg === "settings")?.settings as { notifyUrl: string[]; notifySecret: string };
  t.deepEqual(settings.notifyUrl, [`${a.url}/services/***`, b.url + "/"]);
  t.is(settings.notifySecret, "(set)");
  p.child.kill("SIGTERM");
  t.is(await p.exited, 0);
  t.false(JSON.stringify(p.logs).includes(SECRET));
  t.false(JSON.stringify(p.logs).includes(PATH_SECRET));
});

test("bad --notify-url values are refused at start, each named, without the URL's credentials", async (t) => {
  const repo = repoWith("cs-notify-bad-", good);
  const p = serveProcess(["--repo", repo, "--port", "0", "--notify-url", "ftp://example.com/x", "--notify-url", `http://u:${SECRET}@[bad`, "--notify-url", "https://a.example/x", "--notify-url", "https://a.example/x"]);
  t.teardown(() => void p.child.kill("SIGKILL"));
  t.is(await p.exited, 2);
  const err = p.stderr();
  t.regex(err, /--notify-url \(value 1\): "ftp:\/\/example\.com\/x" is not an http or https URL \(ftp\)/);
  t.regex(err, /--notify-url \(value 2\): "http:\/\/\*\*\*@\[bad" is not a URL/);
  t.regex(err, /--notify-url \(value 4\): "https:\/\/a\.example\/x" is listed twice/);
  t.false(err.includes(SECRET));
});
