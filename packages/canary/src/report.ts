import { outputToken, writeFileAtomic, type OutputClaim } from "@recsys/core";
import type { CanaryAnalysis } from "./analyze.ts";
import { canaryCharts } from "./charts.ts";
import { escapeXml, GROUP_HEADER, groupRows, isoTime, ms, pct, releaseRows, TABLE_HEADER, tableCells } from "./format.ts";

const VERDICT_COLOR = { promote: "#2b8a3e", continue: "#e67700", rollback: "#c92a2a" } as const;

function table(rows: string[][], header: string[]): string {
  const th = header.map((h) => `<th>${escapeXml(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

function testRows(a: CanaryAnalysis): string[][] {
  const { availability: av, latency: lt, quality: q } = a.tests;
  const ci = q.ci95 ? `[${pct(q.ci95[0])}, ${pct(q.ci95[1])}]` : "n/a";
  return [
    ["availability", av.status, `${pct(av.canary)} (stable ${pct(av.stable)})`, `>= ${pct(av.threshold)}`, `${av.samples} / ${av.minSamples} requests`],
    ["latency p99", lt.status, `${ms(lt.canary)} (stable ${ms(lt.stable)})`, `<= ${ms(lt.threshold)}`, `${lt.samples} / ${lt.minSamples} requests`],
    ["quality (follow rate)", q.status, `diff ${pct(q.diff)}, 95% CI ${ci}, z ${q.z?.toFixed(2) ?? "n/a"}, p ${q.pValue?.toPrecision(3) ?? "n/a"}`,
      `not worse at alpha ${q.alpha} (one-sided)`, `${q.samples.canary} + ${q.samples.stable} / ${q.minSamples} each`],
    ...(a.tests.groups ? [["group follow rate", a.tests.groups.status, a.tests.groups.worse.length ? `worse for ${a.tests.groups.worse.join(", ")}` : "no group worse",
      `no group worse at alpha ${a.tests.groups.alpha} (Holm)`, `${a.tests.groups.tested} groups tested, ${a.tests.groups.minSamples} each`]] : []),
  ];
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1240px;color:#212529}
h1{font-size:22px;margin:0 0 4px}.meta{color:#495057;margin:0 0 16px}
.verdict{display:inline-block;color:#fff;font-weight:700;padding:6px 14px;border-radius:4px;font-size:18px;letter-spacing:.05em}
ul.reasons{margin:8px 0 20px}table{border-collapse:collapse;margin:8px 0 20px;font-size:14px}
th,td{border:1px solid #dee2e6;padding:4px 10px;text-align:left}th{background:#f1f3f5}
td.pass{color:#2b8a3e;font-weight:600}td.fail{color:#c92a2a;font-weight:700}td.insufficient{color:#e67700}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #dee2e6;border-radius:4px;padding:6px}`;

/**
 * The analysis as one self-contained HTML page: verdict, evidence, tables and inline SVG
 * charts (latency p99 and success over time per release, follow rate with 95 % CIs).
 */
export async function renderCanaryReport(a: CanaryAnalysis): Promise<string> {
  const tests = table(testRows(a), ["check", "status", "canary evidence", "rule", "samples / needed"])
    .replace(/<td>(pass|fail|insufficient)<\/td>/g, '<td class="$1">$1</td>');
  return `<!doctype html>
<!-- ${outputToken("report")} -->
<html lang="en"><head><meta charset="utf-8"><title>Canary ${escapeXml(a.canary)}: ${a.verdict}</title><style>${STYLE}</style></head>
<body>
<h1>Canary analysis: ${escapeXml(a.canary)} vs ${escapeXml(a.stable.join(", ") || "(no stable release)")}</h1>
<p class="meta">window ${isoTime(a.window.startMs)} to ${isoTime(a.window.endMs)}; quality scored on requests whose ${a.config.followWindowMs / 60_000}-minute follow window ended by ${isoTime(a.window.asOfMs)}</p>
<span class="verdict" style="background:${VERDICT_COLOR[a.verdict]}">${a.verdict.toUpperCase()}</span>
<ul class="reasons">${a.reasons.map((r) => `<li>${escapeXml(r)}</li>`).join("")}</ul>
<h2>Checks</h2>${tests}
<h2>Per release</h2>${table(releaseRows(a).map((r) => [r.label, ...tableCells(r.stats)]), TABLE_HEADER)}
${a.tests.groups ? `<h2>Per user group</h2><p>Follow rate per group; one-sided two-proportion test "canary worse", Holm-corrected over the ${a.tests.groups.tested} tested groups; groups under ${a.tests.groups.minSamples} scored recommendations in an arm are not tested.</p>${table(groupRows(a), GROUP_HEADER).replace(/<td>(pass|fail|insufficient)<\/td>/g, '<td class="$1">$1</td>')}` : ""}
<h2>Charts</h2><div class="charts">
${(await canaryCharts(a)).map((svg) => `<figure>${svg}</figure>`).join("\n")}
</div>
</body></html>
`;
}

/**
 * Writes the HTML report atomically (readers never see half a page). It replaces only an earlier
 * report (or, with `output.force`, a foreign file), never one of `output.inputs`, a folder or a device.
 */
export async function writeCanaryReport(path: string, a: CanaryAnalysis, output: Omit<OutputClaim, "kind"> = {}): Promise<void> {
  await writeFileAtomic(path, await renderCanaryReport(a), { kind: "report", ...output });
}
