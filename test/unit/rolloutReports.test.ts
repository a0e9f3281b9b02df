// Unit tests of how agent records become the rollout plan's per-agent reports (src/domain/rolloutReports.ts).
import test from "ava";
import { ApplyStatus, type AgentProtocol, type AgentRecord, type ConfigReport } from "../../src/domain/agent.ts";
import { agentReport } from "../../src/domain/rolloutReports.ts";

const NOW = 1_700_000_000_000;
const record = (protocol: AgentProtocol, pipelines: ConfigReport[], lastSeenMs = NOW): AgentRecord => ({
  agentId: "a",
  heartbeat: { agentId: "a", protocol, attributes: { agentType: "", version: "", ip: "", hostname: "", extras: {} }, tags: { named: {} }, runningStatus: "", startupTime: 0 },
  tagsKey: "[]",
  latestHeartbeatTime: Math.floor(lastSeenMs / 1000),
  lastSeenMs,
  statistics: undefined,
  alarms: [],
  pipelines,
  instances: [],
  reportedMs: lastSeenMs,
});
const rep = (version: number, status: number = ApplyStatus.UNSET, message = ""): ConfigReport[] => [{ name: "nginx", version, status: status as ConfigReport["status"], message }];
const of = (r: AgentRecord | undefined, extra: { receivedAt?: number; nowMs?: number } = {}) =>
  agentReport({ instanceId: "a", wave: 2, record: r, kind: "pipeline", name: "nginx", version: 7, nowMs: extra.nowMs ?? NOW, ttlMs: 60_000, receivedAt: extra.receivedAt });

test("v2 statuses map to applied / applying / failed with the message; another version is not reported", (t) => {
  t.like(of(record("v2", rep(7, ApplyStatus.APPLIED))), { health: "applied", alive: true, received: true, wave: 2 });
  t.like(of(record("v2", rep(7, ApplyStatus.APPLYING))), { health: "applying", received: true });
  t.like(of(record("v2", rep(7))), { health: "applying" });
  t.deepEqual(of(record("v2", rep(7, ApplyStatus.FAILED, "kafka down"))), { instanceId: "a", wave: 2, health: "failed", message: "kafka down", alive: true, received: true });
  t.like(of(record("v2", rep(6, ApplyStatus.APPLIED))), { health: "notReported", received: false });
  t.like(of(record("v2", [])), { health: "notReported", received: false });
  t.like(of(record("v2", []), { receivedAt: NOW - 5 }), { health: "notReported", received: true, receivedAt: NOW - 5 });
});

test("v1 and alpha agents have applied when they report the version", (t) => {
  for (const p of ["v1", "alpha"] as const) {
    t.like(of(record(p, rep(7))), { health: "applied" }, p);
    t.like(of(record(p, rep(6))), { health: "notReported" }, p);
  }
});

test("past the TTL, or forgotten, an agent is not alive; one that got the version then counts as failed in the plan", (t) => {
  t.like(of(record("v1", rep(7), NOW - 60_001)), { alive: false, received: true });
  t.like(of(record("v1", rep(7), NOW - 60_000)), { alive: true });
  t.like(of(undefined, { receivedAt: NOW - 1000 }), { alive: false, received: true, health: "notReported" });
  t.like(of(undefined), { alive: false, received: false });
});
