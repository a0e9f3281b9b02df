import test from "ava";
import { decodeAlarms, decodeHeartbeat, decodeReports, decodeStatistics, decodeStored, decodeTimes, encodeAlarms, encodeHeartbeat, encodeParts, encodeReports, encodeStatistics, encodeStored, encodeTimes, FULL, HEADER_WIDTH, Part, revOf } from "../../src/agents/agentCodec.ts";
import { parseRegistry } from "../../src/agents/registryUrl.ts";
import { redactUrl } from "../../src/redis/redactUrl.ts";
import type { AgentRecord, Heartbeat } from "../../src/domain/agent.ts";

const v1: Heartbeat = {
  agentId: "v1-a", protocol: "v1",
  attributes: { agentType: "iLogtail", version: "1.7.1", ip: "10.0.0.2", hostname: "h", extras: { region: "cn-1" } },
  tags: { named: {}, values: ["prod", "web"] },
  runningStatus: "good", startupTime: 1_700_000_000, intervalSeconds: 30,
};
const v2: Heartbeat = {
  agentId: "v2-a", protocol: "v2",
  attributes: { agentType: "LoongCollector", version: "3.0.5", ip: "10.0.0.3", hostname: "host", extras: {} },
  tags: { named: { env: "prod", "a b": "ü \" ," } },
  runningStatus: "running", startupTime: 1, capabilities: 3, sequenceNum: 42,
};

test("a heartbeat round-trips through its part of the stored record, v1 tag values and extras included; the sequence number stays with the replica", (t) => {
  t.deepEqual(decodeHeartbeat("v1-a", encodeHeartbeat(v1)), { ...v1, capabilities: undefined });
  const { sequenceNum: _, ...rest } = v2;
  t.deepEqual(decodeHeartbeat("v2-a", encodeHeartbeat(v2)), { ...rest, intervalSeconds: undefined });
  t.is(encodeHeartbeat(undefined), "");
  t.is(decodeHeartbeat("x", ""), undefined);
});

test("reports, statistics, alarms and times round-trip; empty ones are empty strings", (t) => {
  const reports = [{ name: "c1", version: 3, status: 2 as const, message: "" }, { name: "c2", version: -1, status: 3 as const, message: "line 1\nline 2" }];
  t.deepEqual(decodeReports(encodeReports(reports)), reports);
  t.is(encodeReports([]), "");
  t.deepEqual(decodeReports(""), []);
  const stats = { cpu: 0.25, memory: "123456789012345678", extras: { k: "v" } };
  t.deepEqual(decodeStatistics(encodeStatistics(stats)), stats);
  t.is(decodeStatistics(encodeStatistics(undefined)), undefined);
  const alarms = [{ type: "CONFIG", detail: "bad", time: 5 }];
  t.deepEqual(decodeAlarms(encodeAlarms(alarms)), alarms);
  t.deepEqual(decodeAlarms(encodeAlarms([])), []);
  const times = { lastSeenMs: 1_796_000_000_123, latestHeartbeatTime: 1_796_000_000, reportedMs: 0 };
  t.deepEqual(decodeTimes(encodeTimes(times)), times);
  t.is(encodeTimes(times).length, 36);
});

test("a stored record: fixed-width header (times, rev), then the five parts; JSON never holds the separator", (t) => {
  const times = { lastSeenMs: 1_796_000_000_123, latestHeartbeatTime: 1_796_000_000, reportedMs: 1_796_000_000_001 };
  const parts = { h: encodeHeartbeat(v2), p: encodeReports([{ name: "c", version: 1, status: 3, message: "a\x1fb" }]), i: "", s: "", l: encodeAlarms([{ type: "t", detail: "\x1f", time: 1 }]) };
  const text = encodeStored(times, 4711, parts);
  t.is(text.slice(0, HEADER_WIDTH).length, 51);
  t.is(revOf(text.slice(0, HEADER_WIDTH)), "4711");
  t.deepEqual(decodeStored(text), { times, rev: "4711", ...parts });
  t.is(decodeReports(decodeStored(text).p)[0]?.message, "a\x1fb");
});

test("encodeParts writes only the parts named", (t) => {
  const r: AgentRecord = { agentId: "v2-a", heartbeat: v2, tagsKey: "", latestHeartbeatTime: 1, lastSeenMs: 1, statistics: undefined, alarms: [], pipelines: [], instances: [], reportedMs: 0 };
  t.deepEqual(Object.keys(encodeParts(r, Part.H | Part.S)), ["h", "s"]);
  t.deepEqual(Object.keys(encodeParts(r, FULL)), ["h", "p", "i", "s", "l"]);
  t.deepEqual(encodeParts(r, 0), {});
});

test("--registry: memory or redis[s]://host[:port][/db]; passwords are hidden in logs", (t) => {
  t.deepEqual(parseRegistry("memory"), { kind: "memory" });
  t.deepEqual(parseRegistry("redis://10.0.0.5:6379/2"), { kind: "redis", url: "redis://10.0.0.5:6379/2" });
  t.deepEqual(parseRegistry("rediss://user:pw@r.example/0"), { kind: "redis", url: "rediss://user:pw@r.example/0" });
  for (const bad of ["", "mem", "http://h/0", "redis:///0", "redis://h/db1", "redis://h/0?tls=1"]) t.is(typeof parseRegistry(bad), "string", bad);
  t.is(redactUrl("redis://user:secret@h:1/0"), "redis://user:***@h:1/0");
  t.is(redactUrl("memory"), "memory");
});
