import test from "ava";
import { register as globalRegistry } from "prom-client";
import { get, scrape } from "./helpers/prometheus.ts";
import { git } from "./helpers/git.ts";
import { withServer } from "./helpers/server.ts";

test("/metrics parses as Prometheus text and its counters move with traffic", async (t) => {
  const s = await withServer(t);
  const before = await scrape(s.url);
  for (let i = 0; i < 3; i++) t.is((await s.api.heartbeat({ agent_id: "a1" })).body.code, "Accept");
  t.is((await s.api.createConfig({ config_detail: { config_name: "c1", content: "x" } })).body.code, "Accept");
  await s.api.createConfig({ config_detail: { config_name: "c1", content: "x" } });
  await s.api.configList({ agent_id: "a1" });
  await s.api.configList({ agent_id: "ghost" });
  const after = await scrape(s.url);
  const delta = (key: string) => get(after, key) - get(before, key);

  t.is(delta('configserver_http_requests_total{route="/Agent/HeartBeat",code="Accept",protocol="alpha"}'), 3);
  t.is(delta('configserver_http_request_duration_seconds_count{route="/Agent/HeartBeat",code="Accept",protocol="alpha"}'), 3);
  t.is(delta('configserver_http_requests_total{route="/Agent/GetConfigList",code="Accept",protocol="alpha"}'), 1);
  t.is(delta('configserver_http_requests_total{route="/Agent/GetConfigList",code="AgentNotExist",protocol="alpha"}'), 1);
  t.is(delta('configserver_http_requests_total{route="/User/CreateConfig",code="ConfigAlreadyExist",protocol="user"}'), 1);
  t.is(delta('configserver_write_duration_seconds_count{result="committed"}'), 1);
  t.true(delta("configserver_snapshot_reload_seconds_count") >= 1);
  t.is(get(after, "configserver_agents_known"), 1);
  t.is(get(after, "configserver_agents_live"), 1);
  t.is(get(after, "configserver_configs"), 1);
  t.is(get(after, "configserver_groups"), 1);
  const head = git(s.repo, "rev-parse", "HEAD").trim();
  t.is(get(after, `configserver_served_commit_info{commit="${head}"}`), 1);
  t.true(after.has("configserver_served_commit_age_seconds"));
  t.true(get(after, "configserver_served_commit_age_seconds") >= 0);
  t.is(get(after, "configserver_head_refused"), 0);
  t.true(after.has("process_cpu_user_seconds_total"), "process metrics");
  // The scrape itself is counted (by the next scrape).
  t.true(delta('configserver_http_requests_total{route="/metrics",code="200",protocol="none"}') >= 1);
});

test("each server has its own registry; the global one stays empty", async (t) => {
  const a = await withServer(t);
  const b = await withServer(t);
  await a.api.heartbeat({ agent_id: "only-on-a" });
  t.is(get(await scrape(a.url), "configserver_agents_known"), 1);
  t.is(get(await scrape(b.url), "configserver_agents_known"), 0);
  t.is(globalRegistry.getSingleMetric("configserver_http_requests_total"), undefined);
});
