import type { CanaryAnalysis } from "./analyze.ts";
import type { ReleaseStats } from "./release-stats.ts";

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const pct = (x: number | null, digits = 2): string => (x === null ? "n/a" : `${(x * 100).toFixed(digits)}%`);
export const ms = (x: number | null): string => (x === null ? "n/a" : `${Math.round(x)} ms`);
/** UTC time without fractional seconds: `2022-02-08 18:06:56Z`. */
export const isoTime = (t: number): string => (Number.isFinite(t) ? new Date(t).toISOString().slice(0, 19).replace("T", " ") + "Z" : "n/a");

export function followText(s: ReleaseStats): string {
  if (s.followRate === null) return "n/a";
  return `${pct(s.followRate, 1)} [${pct(s.followCi![0], 1)}, ${pct(s.followCi![1], 1)}] of ${s.followEligible}`;
}

/** Rows of the per-release table: each release, then the pooled stable arm. */
export function releaseRows(a: CanaryAnalysis): { label: string; stats: ReleaseStats }[] {
  return [
    ...Object.entries(a.perRelease).map(([release, stats]) => ({ label: release === a.canary ? `${release} (canary)` : release, stats })),
    ...(a.stable.length > 1 ? [{ label: "stable (pooled)", stats: a.arms.stable }] : []),
  ];
}

export function tableCells(stats: ReleaseStats): string[] {
  return [String(stats.requests), pct(stats.successRate), ms(stats.p50), ms(stats.p99), followText(stats)];
}

export const TABLE_HEADER = ["release", "requests", "success", "p50", "p99", "follow rate [95% CI] of n"];

/** Follow rate per user group, canary vs stable with the Holm-adjusted p, when a users file was given. */
export function groupRows(a: CanaryAnalysis): string[][] {
  return (a.tests.groups?.groups ?? []).map((g) => [
    `${g.attribute}=${g.group}`, `${pct(g.canary.rate, 1)} of ${g.canary.eligible}`, `${pct(g.stable.rate, 1)} of ${g.stable.eligible}`,
    g.test ? pct(g.test.diff, 1) : "n/a", g.pAdjusted === null ? "not tested" : g.pAdjusted.toPrecision(3), g.status,
  ]);
}

export const GROUP_HEADER = ["group", "canary follow", "stable follow", "diff", "Holm p", "status"];

function groupLines(a: CanaryAnalysis): string[] {
  const rows = groupRows(a);
  if (rows.length === 0) return [];
  const all = [GROUP_HEADER, ...rows];
  const widths = GROUP_HEADER.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return [...all.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()), ""];
}

/**
 * The analysis as a short text: window, a per-release table, the verdict and its reasons.
 *
 *     process.stdout.write(formatCanaryText(analyzeCanary(input)));
 */
export function formatCanaryText(a: CanaryAnalysis): string {
  const rows = [TABLE_HEADER, ...releaseRows(a).map((r) => [r.label, ...tableCells(r.stats)])];
  const widths = TABLE_HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd());
  return [
    `canary ${a.canary} vs ${a.stable.length ? a.stable.join(", ") : "(no stable release in window)"}`,
    `window ${isoTime(a.window.startMs)} .. ${isoTime(a.window.endMs)}; follow within ${a.config.followWindowMs / 60_000} min, scored up to ${isoTime(a.window.asOfMs)}`,
    "",
    ...table,
    "",
    ...groupLines(a),
    `verdict: ${a.verdict.toUpperCase()}`,
    ...a.reasons.map((r) => `  - ${r}`),
    "",
  ].join("\n");
}
