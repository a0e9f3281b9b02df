// Reads internals: the sync counters are moved by calling the server's metrics object
// (`server.metrics.syncCompleted`), as the sync scheduler does, rather than by making a remote fail
// on cue; what /metrics then shows is read over HTTP. The black-box metrics tests are in
// test/metrics.test.ts.
import test from "ava";
import { send } from "../helpers/client.ts";
import { statusOf } from "../helpers/observe.ts";
import { get, scrape } from "../helpers/prometheus.ts";
import { waitFor, withServer } from "../helpers/server.ts";

test("the sync API moves the sync metrics; an unknown route and a refused token are labelled", async (t) => {
  const s = await withServer(t, { agentToken: "t", syncIntervalMs: 3_600_000 });
  await waitFor(async () => (await statusOf(s.url)).lastSync); // the sync at start
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
