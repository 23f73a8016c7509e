import { Counter, Gauge, Registry, type Metric } from "prom-client";

/** Per-release series, updated on the request path with plain arithmetic (see createRouterMetrics). */
export interface ReleaseSeries {
  /** One finished request: its latency and whether it failed (status >= 500). */
  record(seconds: number, failed: boolean): void;
}

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2];

class ReleaseStats implements ReleaseSeries {
  requests = 0;
  errors = 0;
  sum = 0;
  /** Requests per latency bucket (not cumulative), the last one past the largest bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);

  record(seconds: number, failed: boolean): void {
    this.requests++;
    if (failed) this.errors++;
    this.sum += seconds;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.buckets[i]++;
  }
}

export interface RouterMetrics {
  /** This router's own registry (never prom-client's global one: several routers may share a process). */
  registry: Registry;
  forRelease(id: string): ReleaseSeries;
  upstreamFailure(release: string, upstream: string, kind: string): void;
  retries: { inc(): void };
  fallbacks: { inc(): void };
}

/** The routing state the gauges export at scrape time: weight per release, and whether each upstream is in rotation. */
export type DescribeState = () => { weights: [string, number][]; upstreams: [string, string, boolean][] };

/**
 * Builds the router's Prometheus series. `describe` is called at scrape time to export the
 * current weights and upstream health as gauges; a worker process of a multi-process router
 * leaves it out (the primary holds the state and exports them, see cluster.ts), since summing a
 * weight over workers would be wrong.
 *
 *     const m = createRouterMetrics(() => ({ weights: [["v1", 100]], upstreams: [["v1", url, true]] }));
 *     await m.registry.metrics();
 */
export function createRouterMetrics(describe?: DescribeState): RouterMetrics {
  const registry = new Registry();
  const registers = [registry];
  // The request path only does arithmetic on ReleaseStats; the series are filled in at scrape
  // time. prom-client's own inc/observe hash the label set on every call, which measured about
  // 3 µs a request, a tenth of the router's CPU (bench/route.ts).
  const stats = new Map<string, ReleaseStats>();
  new Counter({
    name: "recsys_router_requests_total", help: "Recommendation responses, by the release that served them (or 'fallback').", labelNames: ["release"], registers,
    collect() { this.reset(); for (const [release, s] of stats) this.inc({ release }, s.requests); },
  });
  new Counter({
    name: "recsys_router_errors_total", help: "Recommendation responses with status >= 500, by release.", labelNames: ["release"], registers,
    collect() { this.reset(); for (const [release, s] of stats) this.inc({ release }, s.errors); },
  });
  registry.registerMetric(latencyHistogram("recsys_router_request_duration_seconds", "Time from request to response at the router, by release.", stats) as unknown as Metric);
  const failures = new Counter({ name: "recsys_router_upstream_failures_total", help: "Failed tries at an upstream (connect, timeout, reset, status >= 500).", labelNames: ["release", "upstream", "kind"], registers });
  const retries = new Counter({ name: "recsys_router_retries_total", help: "Second tries on another upstream.", registers });
  const fallbacks = new Counter({ name: "recsys_router_fallback_total", help: "Answers from the last good popular list because no upstream answered.", registers });
  if (describe) registerStateGauges(registry, describe);
  return {
    registry,
    forRelease(id) {
      let s = stats.get(id);
      if (!s) stats.set(id, (s = new ReleaseStats()));
      return s;
    },
    upstreamFailure: (release, upstream, kind) => failures.inc({ release, upstream, kind }),
    retries,
    fallbacks,
  };
}

/** The weight and upstream-health gauges, filled from `describe` at scrape time. */
export function registerStateGauges(registry: Registry, describe: DescribeState): void {
  const registers = [registry];
  new Gauge({
    name: "recsys_router_weight", help: "Configured weight (percent) per release.", labelNames: ["release"], registers,
    collect() { this.reset(); for (const [release, w] of describe().weights) this.set({ release }, w); },
  });
  new Gauge({
    name: "recsys_router_upstream_up", help: "1 if the upstream is in rotation (passing health checks, not ejected).", labelNames: ["release", "upstream"], registers,
    collect() { this.reset(); for (const [release, upstream, up] of describe().upstreams) this.set({ release, upstream }, up ? 1 : 0); },
  });
}

/**
 * A histogram family over the releases' stats, in the shape prom-client's registry exports (the
 * `get`/`reset` protocol its own Histogram follows): cumulative `_bucket` series, `_sum`, `_count`.
 */
function latencyHistogram(name: string, help: string, stats: Map<string, ReleaseStats>) {
  return {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const [release, s] of stats) {
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += s.buckets[i];
          values.push({ labels: { release, le }, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels: { release, le: "+Inf" }, value: s.requests, metricName: `${name}_bucket` });
        values.push({ labels: { release }, value: s.sum, metricName: `${name}_sum` });
        values.push({ labels: { release }, value: s.requests, metricName: `${name}_count` });
      }
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
    reset() {
      for (const s of stats.values()) {
        s.requests = s.errors = s.sum = 0;
        s.buckets.fill(0);
      }
    },
  };
}
