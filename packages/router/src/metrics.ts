import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Per-release series, bound once per release id so the request path does no label lookups. */
export interface ReleaseSeries {
  requests: { inc(): void };
  errors: { inc(): void };
  latency: { observe(seconds: number): void };
}

export interface RouterMetrics {
  /** This router's own registry (never prom-client's global one: several routers may share a process). */
  registry: Registry;
  forRelease(id: string): ReleaseSeries;
  upstreamFailure(release: string, upstream: string, kind: string): void;
  retries: { inc(): void };
  fallbacks: { inc(): void };
}

/**
 * Builds the router's Prometheus series. `describe` is called at scrape time to export the
 * current weights and upstream health as gauges.
 *
 *     const m = createRouterMetrics(() => ({ weights: [["v1", 100]], upstreams: [["v1", url, true]] }));
 *     await m.registry.metrics();
 */
export function createRouterMetrics(describe: () => { weights: [string, number][]; upstreams: [string, string, boolean][] }): RouterMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({ name: "recsys_router_requests_total", help: "Recommendation responses, by the release that served them (or 'fallback').", labelNames: ["release"], registers });
  const errors = new Counter({ name: "recsys_router_errors_total", help: "Recommendation responses with status >= 500, by release.", labelNames: ["release"], registers });
  const latency = new Histogram({
    name: "recsys_router_request_duration_seconds",
    help: "Time from request to response at the router, by release.",
    labelNames: ["release"],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2],
    registers,
  });
  const failures = new Counter({ name: "recsys_router_upstream_failures_total", help: "Failed tries at an upstream (connect, timeout, reset, status >= 500).", labelNames: ["release", "upstream", "kind"], registers });
  const retries = new Counter({ name: "recsys_router_retries_total", help: "Second tries on another upstream.", registers });
  const fallbacks = new Counter({ name: "recsys_router_fallback_total", help: "Answers from the last good popular list because no upstream answered.", registers });
  new Gauge({
    name: "recsys_router_weight", help: "Configured weight (percent) per release.", labelNames: ["release"], registers,
    collect() { this.reset(); for (const [release, w] of describe().weights) this.set({ release }, w); },
  });
  new Gauge({
    name: "recsys_router_upstream_up", help: "1 if the upstream is in rotation (passing health checks, not ejected).", labelNames: ["release", "upstream"], registers,
    collect() { this.reset(); for (const [release, upstream, up] of describe().upstreams) this.set({ release, upstream }, up ? 1 : 0); },
  });

  const bound = new Map<string, ReleaseSeries>();
  return {
    registry,
    forRelease(id) {
      let s = bound.get(id);
      if (!s) {
        s = { requests: requests.labels(id), errors: errors.labels(id), latency: latency.labels(id) };
        bound.set(id, s);
      }
      return s;
    },
    upstreamFailure: (release, upstream, kind) => failures.inc({ release, upstream, kind }),
    retries,
    fallbacks,
  };
}
