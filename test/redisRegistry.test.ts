import test from "ava";
import { client, pb } from "./helpers/client.ts";
import { startRedis } from "./helpers/redis.ts";
import { waitFor, withServer } from "./helpers/server.ts";

test("one server on Redis: a heartbeat shows in ListAgents and in Redis", async (t) => {
  const redis = await startRedis(t);
  const s = await withServer(t, { registry: redis.url, agentTtlMs: 60_000 });
  const r = await s.api.heartbeat({ agent_id: "a-1", agent_type: "ilogtail", agent_version: "1.8", ip: "10.0.0.1", tags: { env: "prod" }, running_status: "running", startup_time: 1 });
  t.is(r.status, 200);
  const list = await s.api.listAgents({ group_name: "default" });
  t.deepEqual(list.body.agents.map((a) => a.agent_id), ["a-1"]);
  const c = redis.client();
  const hash = await c.hgetall("cs:a:a-1");
  t.truthy(hash.h);
  t.regex(hash.h as string, /"prod"/);
  t.true((await c.pttl("cs:a:a-1")) > 0, "the agent TTL is the key's expiry");
  void client;
  void pb;
  void waitFor;
});
