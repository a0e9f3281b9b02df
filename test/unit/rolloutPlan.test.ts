// Unit tests of the rollout wave state machine (pure: src/domain/rolloutPlan.ts).
import test from "ava";
import { withFinalWave, type HaltRule, type RolloutPolicy, type Wave } from "../../src/domain/rolloutPolicy.ts";
import {
  abortRollout, MAX_LISTED, pauseRollout, planRollout, promoteRollout, resumeRollout, revertedRollout, startRollout,
  type AgentHealth, type AgentReport, type RolloutProgress,
} from "../../src/domain/rolloutPlan.ts";

const pct = (p: number): Wave => ({ kind: "percent", text: `${p}%`, basisPoints: p * 100 });
const policy = (o: { waves?: Wave[]; bake?: number; timeout?: number; halt?: HaltRule; onHalt?: "pause" | "revert" } = {}): RolloutPolicy => ({
  waves: withFinalWave(o.waves ?? [pct(10), pct(50), pct(100)]),
  bakeMs: o.bake ?? 1000,
  applyTimeoutMs: o.timeout ?? 5000,
  halt: o.halt ?? { failed: 1 },
  onHalt: o.onHalt ?? "revert",
  source: "rollout.yaml",
});
const r = (instanceId: string, wave: number, health: AgentHealth, o: Partial<AgentReport> = {}): AgentReport => ({ instanceId, wave, health, alive: true, received: health !== "notReported", ...o });
/** n agents of a wave, all in one state. */
const many = (prefix: string, wave: number, n: number, health: AgentHealth, o: Partial<AgentReport> = {}) => Array.from({ length: n }, (_, i) => r(`${prefix}-${i}`, wave, health, o));
const T0 = 1_700_000_000_000;

test("a good change: wave 1 applies, bakes, then wave 2 starts; the last wave completes", (t) => {
  const p = policy();
  let s = startRollout(T0);
  t.deepEqual(s, { status: "progressing", wave: 1, startedAt: T0, waveStartedAt: T0 });
  // Wave 1 still applying: nothing happens.
  let plan = planRollout(p, s, [...many("a", 1, 3, "applying"), ...many("b", 2, 5, "notReported")], T0 + 100);
  t.is(plan.action, "none");
  t.is(plan.progress, s);
  // All applied: the bake starts now.
  const reports = [...many("a", 1, 3, "applied"), ...many("b", 2, 5, "notReported"), ...many("c", 3, 10, "notReported")];
  plan = planRollout(p, s, reports, T0 + 200);
  t.is(plan.action, "none");
  t.is(plan.progress.appliedAt, T0 + 200);
  s = plan.progress;
  // Before the bake has passed: still wave 1, the bake clock kept.
  plan = planRollout(p, s, reports, T0 + 1100);
  t.is(plan.action, "none");
  t.is(plan.progress.appliedAt, T0 + 200);
  // After: wave 2, its clock from now.
  plan = planRollout(p, s, reports, T0 + 1200);
  t.is(plan.action, "advance");
  t.deepEqual(plan.progress, { status: "progressing", wave: 2, startedAt: T0, waveStartedAt: T0 + 1200, appliedAt: undefined });
  t.deepEqual(plan.waves.map((w) => [w.wave, w.text, w.targeted, w.applied, w.notReported]), [[1, "10%", 3, 3, 0], [2, "50%", 5, 0, 5], [3, "100%", 10, 0, 10]]);
  s = plan.progress;
  // Wave 2 and 3 apply; the last wave completes after its bake.
  const all = [...many("a", 1, 3, "applied"), ...many("b", 2, 5, "applied"), ...many("c", 3, 10, "applied")];
  s = planRollout(p, s, all, T0 + 1300).progress;
  s = planRollout(p, s, all, T0 + 2300).progress;
  t.is(s.wave, 3);
  plan = planRollout(p, s, all, T0 + 2400);
  t.is(plan.action, "none");
  s = plan.progress;
  t.is(planRollout(p, s, all, T0 + 3399).action, "none");
  plan = planRollout(p, s, all, T0 + 3400);
  t.is(plan.action, "complete");
  t.is(plan.progress.status, "completed");
  t.is(plan.progress.endedAt, T0 + 3400);
  // Completed is final.
  t.is(planRollout(p, plan.progress, [r("x", 1, "failed")], T0 + 9999).action, "none");
});

test("agents of later waves never hold a wave back, and their failures do not count yet", (t) => {
  const p = policy({ bake: 0 });
  const plan = planRollout(p, startRollout(T0), [...many("a", 1, 2, "applied"), r("later", 2, "failed"), r("later2", 3, "applying")], T0 + 10);
  t.is(plan.action, "advance");
  t.is(plan.failed, 0);
  t.deepEqual(plan.failures, []);
});

test("a FAILED report with no message halts at once and reads well; onHalt picks the action", (t) => {
  const reports = [r("web-2", 1, "failed", { message: "" }), r("web-1", 1, "failed", { message: "" }), r("web-3", 1, "applied"), ...many("b", 2, 4, "notReported")];
  const revert = planRollout(policy({ onHalt: "revert" }), startRollout(T0), reports, T0 + 50);
  t.is(revert.action, "halt-revert");
  t.is(revert.progress.status, "halted");
  t.is(revert.progress.endedAt, T0 + 50);
  t.is(revert.failed, 2);
  t.is(revert.reached, 3);
  t.deepEqual(revert.failures, [{ kind: "failed", message: "", reason: "reported FAILED without a message (the agent gives no reason: look at the agent's own log on its host)", count: 2, agents: ["web-1", "web-2"] }]);
  t.is(
    revert.progress.haltReason,
    "halted at wave 1 of 3 (10%): 2 of 3 agents reached failed (halt: {failed: 1}). 2 reported FAILED without a message (the agent gives no reason: look at the agent's own log on its host): web-1, web-2",
  );
  const pause = planRollout(policy({ onHalt: "pause" }), startRollout(T0), reports, T0 + 50);
  t.is(pause.action, "halt-pause");
  t.is(pause.progress.status, "halted");
  // Halted is final until an operator acts.
  t.is(planRollout(policy(), pause.progress, [r("ok", 1, "applied")], T0 + 99_999).action, "none");
});

test("failures are grouped by message, most agents first, with a bounded list of agents", (t) => {
  const reports = [...many("k", 1, MAX_LISTED + 5, "failed", { message: "kafka: broker unreachable" }), r("r-1", 1, "failed", { message: "bad regex" })];
  const plan = planRollout(policy({ halt: { failed: 1000 } }), startRollout(T0), reports, T0);
  t.deepEqual(plan.failures.map((f) => [f.reason, f.count, f.agents.length]), [["reported FAILED: kafka: broker unreachable", MAX_LISTED + 5, MAX_LISTED], ["reported FAILED: bad regex", 1, 1]]);
  t.is(plan.action, "none"); // 106 < 1000
});

test("halt: {failed: N} fires at N; {failedPercent: P} at P% of the agents reached so far", (t) => {
  const ok = many("ok", 1, 48, "applied");
  t.is(planRollout(policy({ halt: { failed: 3 } }), startRollout(T0), [...ok, ...many("f", 1, 2, "failed")], T0).action, "none");
  t.is(planRollout(policy({ halt: { failed: 3 } }), startRollout(T0), [...ok, ...many("f", 1, 3, "failed")], T0).action, "halt-revert");
  // 2 of 50 = 4% < 5%; 3 of 51 = 5.9% >= 5%; later waves' agents are not "reached".
  const later = many("later", 2, 1000, "notReported");
  t.is(planRollout(policy({ halt: { failedPercent: 5 } }), startRollout(T0), [...ok, ...many("f", 1, 2, "failed"), ...later], T0).action, "none");
  t.is(planRollout(policy({ halt: { failedPercent: 5 } }), startRollout(T0), [...ok, ...many("f", 1, 3, "failed"), ...later], T0).action, "halt-revert");
  // Exactly at the share fires.
  t.is(planRollout(policy({ halt: { failedPercent: 50 } }), startRollout(T0), [r("a", 1, "applied"), r("b", 1, "failed")], T0).action, "halt-revert");
});

test("an agent gone past the TTL after receiving the version fails; one gone before does not count", (t) => {
  const p = policy({ bake: 0 });
  const gone = planRollout(p, startRollout(T0), [r("v1-agent", 1, "applying", { alive: false, received: true }), r("ok", 1, "applied")], T0 + 10);
  t.is(gone.action, "halt-revert");
  t.deepEqual(gone.failures.map((f) => [f.kind, f.agents]), [["gone", ["v1-agent"]]]);
  t.regex(gone.failures[0]?.reason ?? "", /stopped heartbeating after receiving the new version/);
  t.is(gone.waves[0]?.failed, 1);
  const before = planRollout(p, startRollout(T0), [r("dead", 1, "notReported", { alive: false, received: false }), r("ok", 1, "applied")], T0 + 10);
  t.is(before.action, "advance");
  t.deepEqual([before.waves[0]?.targeted, before.waves[0]?.gone, before.failed], [1, 1, 0]);
});

test("applyTimeout: a live agent that has not applied in time fails the wave; its clock starts when it received the version", (t) => {
  const p = policy({ timeout: 5000, onHalt: "pause" });
  const s = startRollout(T0);
  const slow = [r("slow", 1, "applying"), r("ok", 1, "applied")];
  t.is(planRollout(p, s, slow, T0 + 5000).action, "none");
  const late = planRollout(p, s, slow, T0 + 5001);
  t.is(late.action, "halt-pause");
  t.deepEqual(late.failures.map((f) => [f.kind, f.agents]), [["timeout", ["slow"]]]);
  t.regex(late.progress.haltReason ?? "", /1 agent did not apply within applyTimeout 5s/);
  t.regex(late.failures[0]?.reason ?? "", /did not apply the new version within applyTimeout 5s \(still applying\)/);
  // Received late (a new agent of the wave): it gets its own five seconds.
  t.is(planRollout(p, s, [r("new", 1, "applying", { receivedAt: T0 + 4000 }), r("ok", 1, "applied")], T0 + 8000).action, "none");
  t.is(planRollout(p, s, [r("new", 1, "notReported", { receivedAt: T0 + 4000 })], T0 + 9001).failures[0]?.message, "never reported it");
});

test("paused: nothing advances or times out, but a failure still halts", (t) => {
  const p = policy({ bake: 0, timeout: 10 });
  const s = pauseRollout(startRollout(T0));
  t.is(s.status, "paused");
  t.is(planRollout(p, s, [r("a", 1, "applied")], T0 + 100).action, "none");
  t.is(planRollout(p, s, [r("a", 1, "applying")], T0 + 100).action, "none");
  const halted = planRollout(p, s, [r("a", 1, "failed")], T0 + 100);
  t.is(halted.action, "halt-revert");
  // Resume: progressing again, and it advances.
  const resumed = resumeRollout(s, 0, T0 + 200);
  t.is(resumed.status, "progressing");
  t.is(planRollout(p, resumed, [r("a", 1, "applied")], T0 + 300).action, "advance");
});

test("waves without agents of their own do not bake and are skipped", (t) => {
  // A ten-agent fleet: 1% and 5% select nobody; wave 3 (50%) is the first with agents.
  const p = policy({ waves: [pct(1), pct(5), pct(50), pct(100)], bake: 60_000 });
  const reports = [...many("a", 3, 4, "notReported"), ...many("b", 4, 6, "notReported")];
  const plan = planRollout(p, startRollout(T0), reports, T0 + 1);
  t.is(plan.action, "advance");
  t.is(plan.progress.wave, 3);
  t.deepEqual(plan.waves.map((w) => w.targeted), [0, 0, 4, 6]);
});

test("operators: promote goes to the last wave, abort asks for a revert, reverted is final, resume after a halt accepts its failures", (t) => {
  const p = policy({ halt: { failed: 2 } });
  const s = startRollout(T0);
  const promoted = promoteRollout(p, s, T0 + 5);
  t.deepEqual([promoted.status, promoted.wave, promoted.waveStartedAt], ["progressing", 3, T0 + 5]);
  const aborted = abortRollout(s, "alice", T0 + 7);
  t.is(aborted.action, "halt-revert");
  t.is(aborted.progress.haltReason, "aborted by alice at wave 1");
  const reverted = revertedRollout(aborted.progress, T0 + 9);
  t.is(reverted.status, "reverted");
  t.is(reverted.endedAt, T0 + 7);
  t.is(abortRollout(reverted, "bob", T0 + 10).action, "none");
  t.is(promoteRollout(p, reverted, T0 + 10), reverted);
  // Two failures halt; resuming accepts them: a third alone does not halt (rule: 2), a fourth does.
  const failing = [...many("f", 1, 2, "failed"), ...many("ok", 1, 5, "applied")];
  const halted = planRollout(p, s, failing, T0 + 20);
  t.is(halted.action, "halt-revert");
  const resumed = resumeRollout(halted.progress, halted.failed, T0 + 30);
  t.deepEqual([resumed.status, resumed.acceptedFailures, resumed.haltReason, resumed.endedAt], ["progressing", 2, undefined, undefined]);
  t.is(planRollout(p, resumed, [...failing, r("f3", 1, "failed")], T0 + 40).action, "none");
  t.is(planRollout(p, resumed, [...failing, r("f3", 1, "failed"), r("f4", 1, "failed")], T0 + 40).action, "halt-revert");
});

test("the plan is a pure function of its inputs", (t) => {
  const p = policy();
  const s: RolloutProgress = { status: "progressing", wave: 2, startedAt: T0, waveStartedAt: T0 + 10, appliedAt: T0 + 20 };
  const reports = [r("a", 1, "applied"), r("b", 2, "applied"), r("c", 3, "failed", { message: "x" })];
  const frozen = JSON.stringify(s);
  t.deepEqual(planRollout(p, s, reports, T0 + 500), planRollout(p, s, reports, T0 + 500));
  t.is(JSON.stringify(s), frozen);
});

test("an agent not heard from since a restart holds its wave back without timing out; once heard from, the wave goes on", (t) => {
  const p = policy({ timeout: 5000 });
  const s = { ...startRollout(T0), appliedAt: undefined };
  const unheard = r("u-0", 1, "notReported", { received: true, receivedAt: T0, unheard: true });
  // Long past applyTimeout: an unheard agent neither halts the rollout nor lets it advance.
  let plan = planRollout(p, s, [...many("a", 1, 3, "applied"), unheard], T0 + 60_000);
  t.is(plan.action, "none");
  t.is(plan.progress.appliedAt, undefined, "the bake does not start while it is unheard");
  // The same agent reported back as applied: the bake starts.
  plan = planRollout(p, s, [...many("a", 1, 3, "applied"), r("u-0", 1, "applied")], T0 + 60_000);
  t.is(plan.progress.appliedAt, T0 + 60_000);
  // Not unheard (a live agent that never applied): it times out and halts.
  plan = planRollout(p, s, [...many("a", 1, 3, "applied"), r("u-0", 1, "notReported", { received: true, receivedAt: T0 })], T0 + 60_000);
  t.is(plan.action, "halt-revert");
});
