import type { Registry } from "prom-client";

/** One (route, code, protocol): its count, latency sum and per-bucket counts. */
interface Series {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative): index i counts values in (bounds[i-1], bounds[i]]. */
  readonly buckets: Float64Array;
}

interface Value {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * `configserver_http_requests_total` (a counter) and `configserver_http_request_duration_seconds`
 * (a histogram), by route, code and protocol. Every request observes both. prom-client's
 * Counter.inc and Histogram.observe rebuild a label key from the labels object and validate
 * every label on every call (~0.7 µs together here, as much as decoding a heartbeat); this keeps
 * plain numbers per series, found by the three strings, and hands prom-client's Registry the same
 * values (registerMetric takes any object with `get`) at scrape time. The text is what
 * prom-client's own Counter and Histogram would print: same names, labels in the same order
 * (`le` first), series in the order first seen, cumulative buckets, then +Inf, _sum, _count.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Map<string, Map<string, Series>>>();
  private readonly all: Series[] = [];

  constructor(
    registry: Registry,
    names: { readonly counter: string; readonly counterHelp: string; readonly histogram: string; readonly histogramHelp: string },
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric({
      name: names.counter, help: names.counterHelp, type: "counter", aggregator: "sum",
      get: async () => ({ name: names.counter, help: names.counterHelp, type: "counter", aggregator: "sum", values: this.all.map((s) => ({ labels: s.labels, value: s.count })) }),
      reset: () => this.reset(),
    } as never);
    registry.registerMetric({
      name: names.histogram, help: names.histogramHelp, type: "histogram", aggregator: "sum",
      get: async () => ({ name: names.histogram, help: names.histogramHelp, type: "histogram", aggregator: "sum", values: this.histogramValues(names.histogram) }),
      reset: () => this.reset(),
    } as never);
  }

  /** One request: `route`, `code` and `protocol` come from small fixed sets. */
  observe(route: string, code: string, protocol: string, seconds: number): void {
    // Traffic comes in runs of one kind (a fleet heartbeating): the last series is tried first,
    // before three Map lookups that hash their strings.
    const last = this.last;
    const s = last !== undefined && last.labels.route === route && last.labels.code === code && last.labels.protocol === protocol ? last : (this.last = this.seriesOf(route, code, protocol));
    s.count++;
    s.sum += seconds;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        (s.buckets[i] as number)++;
        break;
      }
    }
  }

  private last: Series | undefined;

  private seriesOf(route: string, code: string, protocol: string): Series {
    let byRoute = this.series.get(protocol);
    if (byRoute === undefined) this.series.set(protocol, (byRoute = new Map()));
    let byCode = byRoute.get(route);
    if (byCode === undefined) byRoute.set(route, (byCode = new Map()));
    let s = byCode.get(code);
    if (s === undefined) {
      byCode.set(code, (s = { labels: Object.freeze({ route, code, protocol }), count: 0, sum: 0, buckets: new Float64Array(this.bounds.length) }));
      this.all.push(s);
    }
    return s;
  }

  private histogramValues(name: string): Value[] {
    const out: Value[] = [];
    for (const s of this.all) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.buckets[i] as number;
        out.push({ labels: { le: this.bounds[i] as number, ...s.labels }, value: acc, metricName: `${name}_bucket` });
      }
      out.push({ labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: `${name}_bucket` });
      out.push({ labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` });
      out.push({ labels: { ...s.labels }, value: s.count, metricName: `${name}_count` });
    }
    return out;
  }

  private reset(): void {
    this.series.clear();
    this.all.length = 0;
    this.last = undefined;
  }
}
