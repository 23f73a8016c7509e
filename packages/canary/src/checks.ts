import type { CanaryConfig } from "./config.ts";
import type { ReleaseStats } from "./release-stats.ts";
import { twoProportionTest } from "./stats.ts";
import { ms, pct } from "./format.ts";
import type { GroupCheck } from "./groups.ts";

/** `insufficient`: too few samples to act on, whatever the value says. */
export type CheckStatus = "pass" | "fail" | "insufficient";

/** A hard threshold on the canary (availability or latency), with the stable figure beside it. */
export interface ThresholdCheck {
  status: CheckStatus;
  canary: number | null;
  stable: number | null;
  threshold: number;
  samples: number;
  minSamples: number;
}

export interface QualityTest {
  status: CheckStatus;
  canaryRate: number | null;
  stableRate: number | null;
  /** Canary follow rate minus stable follow rate, with its 95 % interval. */
  diff: number | null;
  ci95: [number, number] | null;
  z: number | null;
  /** One-sided p-value for "canary follow rate lower than stable's". */
  pValue: number | null;
  alpha: number;
  significantWorse: boolean;
  samples: { canary: number; stable: number };
  minSamples: number;
}

/** Expected follows per arm (n times the pooled rate) below which the z-test is not trusted. */
export const MIN_EXPECTED_FOLLOWS = 5;

export interface CanaryTests {
  availability: ThresholdCheck;
  latency: ThresholdCheck;
  quality: QualityTest;
  /** Follow rate per user group (gender, age, age x gender), Holm-corrected; null without a users file. */
  groups: GroupCheck | null;
}

export function runChecks(canary: ReleaseStats, stable: ReleaseStats, config: CanaryConfig): Omit<CanaryTests, "groups"> {
  const enough = canary.requests >= config.minRequestsForRollback;
  const threshold = (value: number | null, ok: (v: number) => boolean): CheckStatus =>
    !enough || value === null ? "insufficient" : ok(value) ? "pass" : "fail";
  const availability: ThresholdCheck = {
    status: threshold(canary.successRate, (v) => v >= config.minSuccessRate),
    canary: canary.successRate, stable: stable.successRate, threshold: config.minSuccessRate,
    samples: canary.requests, minSamples: config.minRequestsForRollback,
  };
  const latency: ThresholdCheck = {
    status: threshold(canary.p99, (v) => v <= config.maxP99Ms),
    canary: canary.p99, stable: stable.p99, threshold: config.maxP99Ms,
    samples: canary.requests, minSamples: config.minRequestsForRollback,
  };
  const test = twoProportionTest(canary.follows, canary.followEligible, stable.follows, stable.followEligible);
  const samplesEnough = Math.min(canary.followEligible, stable.followEligible) >= config.minSamplesForQuality;
  const pooledRate = (canary.follows + stable.follows) / Math.max(1, canary.followEligible + stable.followEligible);
  // The z-test's normal approximation needs about MIN_EXPECTED_FOLLOWS expected follows per arm;
  // without watches (rate 0) the test has no information and must not "pass".
  const followsEnough = Math.min(canary.followEligible, stable.followEligible) * pooledRate >= MIN_EXPECTED_FOLLOWS;
  const qualityEnough = samplesEnough && followsEnough;
  const significantWorse = qualityEnough && test !== null && test.pValue < config.alpha;
  const quality: QualityTest = {
    status: !qualityEnough || test === null ? "insufficient" : significantWorse ? "fail" : "pass",
    canaryRate: canary.followRate, stableRate: stable.followRate,
    diff: test?.diff ?? null, ci95: test?.ci95 ?? null, z: test?.z ?? null, pValue: test?.pValue ?? null,
    alpha: config.alpha, significantWorse,
    samples: { canary: canary.followEligible, stable: stable.followEligible }, minSamples: config.minSamplesForQuality,
  };
  return { availability, latency, quality };
}

export type Verdict = "promote" | "continue" | "rollback";


function describeThreshold(name: string, c: ThresholdCheck, fmt: (x: number | null) => string, op: string): string {
  const head = `${name}: canary ${fmt(c.canary)} (stable ${fmt(c.stable)}), limit ${op} ${fmt(c.threshold)}`;
  if (c.status === "insufficient") return `${head}; only ${c.samples} canary requests, need ${c.minSamples} to judge`;
  return `${head}: ${c.status === "pass" ? "ok" : "FAILED"}`;
}

function describeQuality(q: QualityTest): string {
  const head = `quality: canary follow rate ${pct(q.canaryRate)} vs stable ${pct(q.stableRate)}`;
  const evidence = q.diff === null ? "" : `, diff ${pct(q.diff)} (95% CI ${pct(q.ci95![0])} to ${pct(q.ci95![1])}), z ${q.z!.toFixed(2)}, one-sided p ${q.pValue!.toPrecision(3)}`;
  if (q.status === "insufficient" && Math.min(q.samples.canary, q.samples.stable) >= q.minSamples) {
    return `${head}${evidence}; too few follows to test (need ${MIN_EXPECTED_FOLLOWS} expected per arm; no watch events?)`;
  }
  if (q.status === "insufficient") {
    return `${head}${evidence}; ${q.samples.canary} canary / ${q.samples.stable} stable scored recommendations, need ${q.minSamples} each to judge`;
  }
  return `${head}${evidence}: ${q.significantWorse ? `significantly WORSE at alpha ${q.alpha}` : `not significantly worse at alpha ${q.alpha}`}`;
}

function describeGroups(g: GroupCheck): string {
  if (g.status === "insufficient") return `group follow rate: no user group has ${g.minSamples} scored recommendations in both arms yet`;
  if (g.status === "pass") return `group follow rate: no user group significantly worse on the canary (${g.tested} groups tested, Holm-corrected at alpha ${g.alpha})`;
  const worst = g.groups.filter((x) => x.status === "fail").map((x) =>
    `${x.attribute}=${x.group} (canary ${pct(x.canary.rate)} of ${x.canary.eligible} vs stable ${pct(x.stable.rate)} of ${x.stable.eligible}, diff ${pct(x.test!.diff)}, Holm-adjusted p ${x.pAdjusted!.toPrecision(3)} < ${g.alpha})`);
  return `group follow rate: canary significantly WORSE for ${worst.join(", ")}`;
}

/**
 * Roll back as soon as any check fails on enough samples; promote when every check passes on
 * at least `minRequests` canary requests; otherwise keep watching. Reasons list the deciding
 * evidence first, then the rest.
 */
export function decide(tests: CanaryTests, canaryRequests: number, config: CanaryConfig): { verdict: Verdict; reasons: string[] } {
  const lines = [
    { status: tests.availability.status, text: describeThreshold("availability", tests.availability, pct, ">=") },
    { status: tests.latency.status, text: describeThreshold("latency p99", tests.latency, ms, "<=") },
    { status: tests.quality.status, text: describeQuality(tests.quality) },
    ...(tests.groups ? [{ status: tests.groups.status, text: describeGroups(tests.groups) }] : []),
  ];
  const failed = lines.filter((l) => l.status === "fail");
  if (failed.length) return { verdict: "rollback", reasons: [...failed, ...lines.filter((l) => l.status !== "fail")].map((l) => l.text) };
  const allPass = lines.every((l) => l.status === "pass");
  if (allPass && canaryRequests >= config.minRequests) {
    return { verdict: "promote", reasons: [`${canaryRequests} canary requests (>= ${config.minRequests}) and every check passes`, ...lines.map((l) => l.text)] };
  }
  const waiting = canaryRequests < config.minRequests ? [`only ${canaryRequests} canary requests, need ${config.minRequests} to promote`] : [];
  const open = lines.filter((l) => l.status === "insufficient");
  return { verdict: "continue", reasons: [...waiting, ...open.map((l) => l.text), ...lines.filter((l) => l.status !== "insufficient").map((l) => l.text)] };
}
