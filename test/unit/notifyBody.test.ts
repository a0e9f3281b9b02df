// Unit tests (internals): the --notify-url event bodies and their text, the retry waits, and how
// logs show a notify URL; no server, no receiver.
import test from "ava";
import { backoffDelay, retryAfterMs } from "../../src/notify/backoff.ts";
import { eventBody, eventText, MAX_FAILURE_GROUPS, MAX_PROBLEMS } from "../../src/notify/eventBody.ts";
import type { NotifyEvent } from "../../src/notify/events.ts";
import { shownUrl } from "../../src/notify/shownUrl.ts";

const server = { host: "cs-1", pid: 42 };
const to = { version: 3, commit: "3".repeat(40) };
const from = { version: 2, commit: "2".repeat(40) };
const subject = { kind: "pipeline" as const, name: "nginx-access", to, from };
const failure = (n: number, message = "") => ({ kind: "failed" as const, message, reason: message || "reported FAILED without a message (see the agent's own log)", count: n, agents: Array.from({ length: Math.min(n, 100) }, (_, i) => `agent-${i + 1}`) });

test("the text of each event type says what happened, to what, and what comes next", (t) => {
  const texts: [NotifyEvent, string][] = [
    [{ type: "rollout.started", ...subject, waves: 4 }, "Rollout of config nginx-access started: version 3 (commit 333333333333) in 4 waves; agents outside the current wave keep version 2."],
    [{ type: "rollout.started", kind: "instance", name: "host-a", to, waves: 1 }, "Rollout of instance config host-a started: version 3 (commit 333333333333) in 1 wave; agents outside the current wave keep nothing (a new config)."],
    [{ type: "rollout.wave_advanced", ...subject, wave: 2, waves: 4 }, "Rollout of config nginx-access advanced to wave 2 of 4: version 3 (commit 333333333333)."],
    [{ type: "rollout.reverted", ...subject, wave: 1, revertCommit: "r".repeat(40) }, "Rollout of config nginx-access reverted at wave 1: commit rrrrrrrrrrrr puts back version 2 in place of version 3 (commit 333333333333); agents that never received it receive nothing."],
    [{ type: "rollout.completed", ...subject, waves: 4 }, "Rollout of config nginx-access completed: version 3 (commit 333333333333) reached every agent (4 waves)."],
    [{ type: "commit.refused", commit: "b".repeat(40), served: "", problems: [{ file: "configs/a.yaml", line: 1, column: 14, message: "bad" }] },
      "Commit bbbbbbbbbbbb refused by validation (1 problem); no valid commit is served: agents are answered ServerBusy until one arrives.\n- configs/a.yaml:1:14: error: bad"],
  ];
  for (const [e, text] of texts) t.is(eventText(e), text, e.type);
});

test("a halted event's text groups the failures, names a few agents of each, and reads well without a message", (t) => {
  const text = eventText({ type: "rollout.halted", ...subject, wave: 1, reason: "2 agents failed (halt: failed 1)", onHalt: "revert", failures: [failure(7), failure(1, "kafka: broker unreachable")] });
  t.is(text, [
    "Rollout of config nginx-access halted at wave 1, version 3 (commit 333333333333): 2 agents failed (halt: failed 1). 8 agents failed; reverting to version 2.",
    "- 7 agents: reported FAILED without a message (see the agent's own log) (agent-1, agent-2, agent-3, agent-4, agent-5, … 2 more)",
    "- 1 agent: kafka: broker unreachable (agent-1)",
  ].join("\n"));
  const paused = eventText({ type: "rollout.halted", ...subject, wave: 2, reason: "r", onHalt: "pause", failures: Array.from({ length: 12 }, () => failure(1)) });
  t.regex(paused, /; paused: resume, promote or abort it/);
  t.regex(paused, /\n… and 2 more$/, "at most 10 groups in the text");
});

test("a body is type, time, server, text, then the event's fields; long lists are cut and their totals kept", (t) => {
  const at = Date.UTC(2026, 11, 6, 21, 0, 0);
  const body = eventBody({ type: "rollout.completed", ...subject, waves: 4 }, server, at);
  t.deepEqual(Object.keys(body), ["type", "time", "server", "text", "kind", "name", "to", "from", "waves"]);
  t.like(body, { type: "rollout.completed", time: "2026-12-06T21:00:00.000Z", server, name: "nginx-access", waves: 4 });
  const problems = Array.from({ length: MAX_PROBLEMS + 5 }, (_, i) => ({ file: "configs/a.yaml", line: i + 1, column: 1, message: "m" }));
  const refused = eventBody({ type: "commit.refused", commit: "c".repeat(40), served: "d".repeat(40), problems }, server, at);
  t.is(refused.type === "commit.refused" && refused.problems.length, MAX_PROBLEMS);
  t.is(refused.problemsTotal, MAX_PROBLEMS + 5);
  t.regex(refused.text, /\(55 problems\)[\s\S]*\n… and 45 more$/);
  const halted = eventBody({ type: "rollout.halted", ...subject, wave: 1, reason: "r", onHalt: "pause", failures: Array.from({ length: MAX_FAILURE_GROUPS + 1 }, () => failure(1)) }, server, at);
  t.is(halted.type === "rollout.halted" && halted.failures.length, MAX_FAILURE_GROUPS);
  t.is(halted.failureGroupsTotal, MAX_FAILURE_GROUPS + 1);
  t.deepEqual(JSON.parse(JSON.stringify(body)), body, "plain JSON");
});

test("retry waits double from the base up to the cap, each between half and all of it", (t) => {
  const policy = { attempts: 10, baseDelayMs: 1000, maxDelayMs: 60_000 };
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((r) => backoffDelay(r, policy, () => 0.999999)), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  t.deepEqual([1, 2, 3, 7].map((r) => backoffDelay(r, policy, () => 0)), [500, 1000, 2000, 30_000]);
  t.is(backoffDelay(2, policy, () => 0.5), 1500);
  t.is(backoffDelay(10_000, policy, () => 0.5), 45_000, "no overflow far out");
  for (let r = 1; r < 12; r++) {
    const d = backoffDelay(r, policy);
    const full = Math.min(60_000, 1000 * 2 ** (r - 1));
    t.true(d >= full / 2 && d <= full, `retry ${r}: ${d}`);
  }
});

test("Retry-After is read as seconds or an HTTP date", (t) => {
  const now = Date.UTC(2026, 0, 1);
  t.is(retryAfterMs("30", now), 30_000);
  t.is(retryAfterMs(new Date(now + 5000).toUTCString(), now), 5000);
  t.is(retryAfterMs(new Date(now - 5000).toUTCString(), now), 0);
  t.is(retryAfterMs("soon", now), undefined);
  t.is(retryAfterMs(undefined, now), undefined);
});

test("a notify URL is shown without credentials, query or the path after its first part", (t) => {
  t.is(shownUrl("https://hooks.slack.com/services/T000/B000/XXXX"), "https://hooks.slack.com/services/***");
  t.is(shownUrl("https://user:pa55@example.com:8443/hook?token=abc"), "https://***@example.com:8443/hook?***");
  t.is(shownUrl("https://tok@example.com/"), "https://***@example.com/");
  t.is(shownUrl("http://127.0.0.1:9000"), "http://127.0.0.1:9000/");
  t.is(shownUrl("not a url"), "(not a URL)");
});
