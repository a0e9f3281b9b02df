import test from "ava";
import { register as globalRegistry } from "prom-client";
import { send } from "./helpers/client.ts";
import { git } from "./helpers/git.ts";
import { waitFor, withServer } from "./helpers/server.ts";

type Samples = Map<string, number>;

const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"`;
const SAMPLE = new RegExp(String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:${LABEL}(?:,${LABEL})*)?\})? (-?(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|[Nn]a[Nn]|\+Inf|-Inf))$`);

/** Parses the Prometheus text format strictly: every line must be a comment or a valid sample. */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(meta[3] as string)) throw new Error(`bad TYPE: ${line}`);
        types.set(meta[2] as string, meta[3] as string);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const family = (m[1] as string).replace(/_(bucket|sum|count)$/, "");
    if (!types.has(m[1] as string) && !types.has(family)) throw new Error(`sample without TYPE: ${line}`);
    samples.set(`${m[1]}${m[2] ?? ""}`, Number(m[3]));
  }
  return samples;
}

async function scrape(url: string): Promise<Samples> {
  const r = await send(url, "GET", "/metrics", "");
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
  if (!String(r.headers["content-type"]).startsWith("text/plain")) throw new Error(`content-type ${r.headers["content-type"]}`);
  return parse(r.body.toString());
}

const get = (s: Samples, key: string) => s.get(key) ?? 0;

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

test("the sync API moves the sync metrics; an unknown route and a refused token are labelled", async (t) => {
  const s = await withServer(t, { agentToken: "t", syncIntervalMs: 3_600_000 });
  await waitFor(() => s.store.lastSync); // the sync at start
  const before = await scrape(s.url);
  s.metrics.syncCompleted(true);
  s.metrics.syncCompleted(false);
  s.metrics.syncCompleted(false);
  await send(s.url, "POST", "/Agent/HeartBeat", "");
  await send(s.url, "GET", "/no/such/thing", "");
  const after = await scrape(s.url);
  const delta = (key: string) => get(after, key) - get(before, key);
  t.is(delta('configserver_syncs_total{result="ok"}'), 1);
  t.is(delta('configserver_syncs_total{result="error"}'), 2);
  // Nothing measured how long a sync took, so no histogram claims to.
  t.false([...after.keys()].some((k) => k.startsWith("configserver_sync_duration_seconds")));
  t.true(get(after, 'configserver_last_sync_timestamp_seconds{result="error"}') > 1.7e9);
  t.is(delta('configserver_http_requests_total{route="/Agent/HeartBeat",code="Unauthorized",protocol="alpha"}'), 1);
  t.is(delta('configserver_http_requests_total{route="unmatched",code="404",protocol="none"}'), 1);
});

test("each server has its own registry; the global one stays empty", async (t) => {
  const a = await withServer(t);
  const b = await withServer(t);
  await a.api.heartbeat({ agent_id: "only-on-a" });
  t.is(get(await scrape(a.url), "configserver_agents_known"), 1);
  t.is(get(await scrape(b.url), "configserver_agents_known"), 0);
  t.is(globalRegistry.getSingleMetric("configserver_http_requests_total"), undefined);
});
