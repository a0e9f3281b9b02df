// Reads internals: whether an expired agent's record is gone from memory (`server.registry.size`,
// before and after the sweep a scrape runs) is not observable from outside, where an expired agent
// and a dropped record look the same; the rest (ListAgents, GetConfigList, the agents_known and
// agents_live gauges) is read over HTTP. The clock is the server's `now` option, moved by hand.
import test from "ava";
import { send } from "../helpers/client.ts";
import { withServer } from "../helpers/server.ts";

const MINUTE = 60_000;

/** A clock the test moves by hand: expiry is driven by it, never by sleeping. */
function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}


test("an agent without a heartbeat for the TTL disappears from ListAgents, GetConfigList and memory", async (t) => {
  const clock = manualClock();
  const s = await withServer(t, { agentTtlMs: 10 * MINUTE, now: clock.now });
  // A commit to serve (an empty repository has none: config answers would be ServerBusy).
  await s.api.createConfig({ config_detail: { config_name: "c", content: "x" } });
  await s.api.heartbeat({ agent_id: "quiet" });
  await s.api.heartbeat({ agent_id: "chatty" });
  const ids = async () => (await s.api.listAgents({ group_name: "default" })).body.agents.map((a) => a.agent_id);
  t.deepEqual(await ids(), ["chatty", "quiet"]);

  clock.advance(6 * MINUTE);
  await s.api.heartbeat({ agent_id: "chatty" });
  clock.advance(5 * MINUTE); // quiet: 11 min silent; chatty: 5 min
  t.deepEqual(await ids(), ["chatty"]);
  t.is((await s.api.configList({ agent_id: "quiet" })).body.code, "AgentNotExist");
  t.is((await s.api.configList({ agent_id: "chatty" })).body.code, "Accept");

  // Memory: the sweep (run by the timer, and before each scrape) drops the record itself.
  t.is(s.registry.size, 2);
  const metrics = (await send(s.url, "GET", "/metrics", "")).body.toString();
  t.regex(metrics, /^configserver_agents_known 1$/m);
  t.regex(metrics, /^configserver_agents_live 1$/m);
  t.is(s.registry.size, 1);

  // A heartbeat brings it back.
  await s.api.heartbeat({ agent_id: "quiet" });
  t.deepEqual(await ids(), ["chatty", "quiet"]);
});

test("agent-ttl 0 keeps agents forever", async (t) => {
  const clock = manualClock();
  const s = await withServer(t, { agentTtlMs: 0, now: clock.now });
  await s.api.heartbeat({ agent_id: "a" });
  clock.advance(365 * 24 * 60 * MINUTE);
  t.is((await s.api.listAgents({ group_name: "default" })).body.agents.length, 1);
});

test("alarms and statistics are readable as JSON; expired agents are gone from it too", async (t) => {
  const clock = manualClock();
  const s = await withServer(t, { agentTtlMs: 10 * MINUTE, now: clock.now, userToken: "u" });
  await s.api.heartbeat({ agent_id: "a1", agent_type: "ilogtail", agent_version: "1.8", ip: "10.0.0.1", tags: { env: "prod" }, startup_time: 1700000000 });
  await s.api.statistics({ agent_id: "a1", running_details: { cpu: 0.5, memory: 1024, extras: { queue: "3" } } });
  await s.api.alarm({ agent_id: "a1", type: "PARSE_ERROR", detail: "line 3" });
  await s.api.alarm({ agent_id: "a1", type: "SEND_FAIL", detail: "timeout" });
  const auth = { authorization: "Bearer u" };
  const list = JSON.parse((await send(s.url, "GET", "/api/v1/agents", "", auth)).body.toString()) as { agents: Record<string, unknown>[] };
  t.is(list.agents.length, 1);
  t.like(list.agents[0], { agentId: "a1", agentType: "ilogtail", version: "1.8", ip: "10.0.0.1", tags: { env: "prod" }, alarmCount: 2, latestHeartbeatAt: "2026-01-01T00:00:00.000Z" });
  const one = await send(s.url, "GET", "/api/v1/agents/a1", "", auth);
  t.is(one.status, 200);
  const detail = JSON.parse(one.body.toString()) as Record<string, unknown>;
  t.like(detail, { agentId: "a1", runningDetails: { CPU: "0.500000", Memory: "1024", queue: "3" }, statistics: { cpu: 0.5, memory: "1024", extras: { queue: "3" } } });
  t.deepEqual((detail.alarms as { type: string; detail: string }[]).map((a) => [a.type, a.detail]), [["PARSE_ERROR", "line 3"], ["SEND_FAIL", "timeout"]]);
  const nobody = await send(s.url, "GET", "/api/v1/agents/nobody", "", auth);
  t.is(nobody.status, 404);
  t.deepEqual(JSON.parse(nobody.body.toString()), { code: "AgentNotExist", message: "Agent nobody doesn't exist." });

  clock.advance(11 * MINUTE);
  t.is((await send(s.url, "GET", "/api/v1/agents/a1", "", auth)).status, 404);
  t.deepEqual(JSON.parse((await send(s.url, "GET", "/api/v1/agents", "", auth)).body.toString()), { agents: [], total: 0, next: null });
});
