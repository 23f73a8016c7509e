import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ModelMeta } from "@recsys/artifact";

export type RouteLabel = "recommend" | "healthz" | "readyz" | "version" | "metrics" | "reload" | "other";

export interface ApiMetrics {
  registry: Registry;
  /** Counts one response and its latency. */
  observe(route: RouteLabel, status: number, seconds: number): void;
  /** Publishes the serving model in the info gauge (one series per release + model). */
  setModel(meta: ModelMeta, modelId: string): void;
  reloaded(outcome: "ok" | "refused"): void;
  exploreSlots(count: number): void;
}

/**
 * The API's Prometheus metrics in their own Registry (tests and several servers in one
 * process never collide). Label children are cached, so a response costs two map lookups.
 * `cacheRatio` is read at scrape time.
 */
export function createApiMetrics(release: string, commit: string, cacheRatio: () => number): ApiMetrics {
  const registry = new Registry();
  const requests = new Counter({ name: "recsys_api_requests_total", help: "HTTP responses by route and status", labelNames: ["route", "status"] as const, registers: [registry] });
  const latency = new Histogram({
    name: "recsys_api_request_duration_seconds", help: "Time from request to response sent", labelNames: ["route"] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.6, 0.8, 2], registers: [registry],
  });
  const modelInfo = new Gauge({
    name: "recsys_api_model_info", help: "The serving release and model (value 1)",
    labelNames: ["release", "commit", "model_id", "model_hash", "data_hash", "engine"] as const, registers: [registry],
  });
  new Gauge({ name: "recsys_api_cache_hit_ratio", help: "Cache hits / lookups since the model was loaded", registers: [registry], collect() { this.set(cacheRatio()); } });
  const reloads = new Counter({ name: "recsys_api_model_reloads_total", help: "Model swaps by outcome", labelNames: ["outcome"] as const, registers: [registry] });
  const explore = new Counter({ name: "recsys_api_explore_slots_total", help: "Result slots filled by exploration", registers: [registry] });

  const counterChildren = new Map<string, { inc(): void }>();
  const latencyChildren = new Map<string, { observe(v: number): void }>();
  return {
    registry,
    observe(route, status, seconds) {
      const key = route + status;
      let c = counterChildren.get(key);
      if (!c) counterChildren.set(key, (c = requests.labels(route, String(status))));
      c.inc();
      let h = latencyChildren.get(route);
      if (!h) latencyChildren.set(route, (h = latency.labels(route)));
      h.observe(seconds);
    },
    setModel(meta, modelId) {
      modelInfo.reset();
      modelInfo.labels(release, commit, modelId, meta.modelHash, meta.dataHash, meta.engine).set(1);
    },
    reloaded: (outcome) => reloads.labels(outcome).inc(),
    exploreSlots: (count) => explore.inc(count),
  };
}
