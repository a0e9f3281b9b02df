import test from "ava";
import { Counter, Histogram, Registry } from "prom-client";
import { RequestMetrics } from "../../src/requestMetrics.ts";

const NAMES = { counter: "x_requests_total", counterHelp: "Requests.", histogram: "x_duration_seconds", histogramHelp: "Latency." };
const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Edges of every bucket, above the last, and series in an order that is not sorted.
const OBSERVED: [string, string, string, number][] = [
  ["/Agent/HeartBeat", "Accept", "alpha", 0.0001], ["/Agent/HeartBeat", "Accept", "alpha", 0.0005], ["/Agent/HeartBeat", "Accept", "alpha", 0.00051],
  ["/metrics", "200", "none", 11], ["/Agent/GetConfigList", "AgentNotExist", "alpha", 0.7], ["/Agent/HeartBeat", "Accept", "v1", 10],
  ["/Agent/HeartBeat", "Accept", "alpha", 0.3], ["/User/CreateConfig", "ConfigAlreadyExist", "user", 0.0123], ["/Agent/HeartBeat", "BadRequest", "alpha", 2.5],
];

function promClient(): Registry {
  const registry = new Registry();
  const counter = new Counter({ name: NAMES.counter, help: NAMES.counterHelp, labelNames: ["route", "code", "protocol"], registers: [registry] });
  const histogram = new Histogram({ name: NAMES.histogram, help: NAMES.histogramHelp, labelNames: ["route", "code", "protocol"], buckets: BOUNDS, registers: [registry] });
  for (const [route, code, protocol, seconds] of OBSERVED) {
    counter.inc({ route, code, protocol });
    histogram.observe({ route, code, protocol }, seconds);
  }
  return registry;
}

function ours(): Registry {
  const registry = new Registry();
  const m = new RequestMetrics(registry, NAMES, BOUNDS);
  for (const [route, code, protocol, seconds] of OBSERVED) m.observe(route, code, protocol, seconds);
  return registry;
}

test("the request counter and histogram print exactly what prom-client's Counter and Histogram print", async (t) => {
  const expected = await promClient().metrics();
  t.true(expected.includes('x_duration_seconds_bucket{le="0.0005",route="/Agent/HeartBeat",code="Accept",protocol="alpha"} 2'));
  t.is(await ours().metrics(), expected);
});

test("the JSON form (what an aggregating registry reads) has the same samples", async (t) => {
  const strip = (metrics: Awaited<ReturnType<Registry["getMetricsAsJSON"]>>) =>
    metrics.map((m) => ({ name: m.name, help: m.help, type: m.type, aggregator: m.aggregator, values: m.values.map((v) => ({ labels: v.labels, value: v.value, metricName: (v as { metricName?: string }).metricName })) }));
  t.deepEqual(strip(await ours().getMetricsAsJSON()), strip(await promClient().getMetricsAsJSON()));
});

test("resetting the registry empties both", async (t) => {
  const registry = ours();
  registry.resetMetrics();
  t.is(await registry.metrics(), await (() => {
    const r = promClient();
    r.resetMetrics();
    return r.metrics();
  })());
});
