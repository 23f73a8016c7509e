import type { FeedbackReport, SeriesPoint } from "./experiment.ts";
import { reportCharts } from "./charts.ts";
import { METRIC_DEFINITIONS } from "./definitions.ts";

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cell = (p: SeriesPoint | undefined) => (p ? `${p.mean.toFixed(4)} [${p.low.toFixed(4)}, ${p.high.toFixed(4)}]` : "n/a");

const CSS = `body{font:14px/1.5 system-ui,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.2em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#eee}.findings li{margin:.3em 0}figure{margin:.4em 0 1.2em}`;

function lastRoundTable(r: FeedbackReport): string {
  const metrics = [...new Set(r.series.map((p) => p.metric))];
  const eps = r.settings.epsilons;
  const head = `<tr><th>measure (round ${r.settings.rounds}), mean [lowest, highest seed]</th>${eps.map((e) => `<th>ε = ${e}</th>`).join("")}</tr>`;
  const rows = metrics.map((m) => `<tr><td>${esc(m)}</td>${eps.map((e) => `<td>${cell(r.series.find((p) => p.metric === m && p.epsilon === e && p.round === r.settings.rounds))}</td>`).join("")}</tr>`);
  return `<table>${head}${rows.join("")}</table>`;
}

/**
 * The report as one self-contained page (inline CSS, inline server-rendered SVG, no script, no
 * external URL): the findings in words, the charts with the epsilons side by side, the last
 * round's figures, the pushed movies and the definitions of every measure.
 */
export async function reportHtml(r: FeedbackReport): Promise<string> {
  const charts = await reportCharts(r.series);
  const s = r.settings;
  const pushes = r.pushes.map((p) => `<tr><td>${p.seed}</td><td>${esc(p.movieId)}</td><td>${esc(p.group)}</td><td>1-${Math.min(p.rounds, s.rounds)}</td><td>${(100 * p.groupShare).toFixed(1)}%</td></tr>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Feedback loop experiment</title><style>${CSS}</style></head><body>
<h1>Feedback loop experiment: exploration ε = ${s.epsilons.join(", ")}</h1>
<p>${s.rounds} rounds, ${s.seeds} seed(s) from ${s.seed}; each world ${s.users} users, ${s.movies} movies, ${s.historyDays} days of simulated history before the loop.
Each round the model recommends 20 movies to every user through the API's <code>recommend</code> (ε of the slots explore), the simulated users choose by the simulator's choice model, and the model is retrained on all events so far. Lines are means over seeds; the shaded band runs from the lowest to the highest seed.</p>
<h2>What exploration bought and what it cost</h2>
<ul class="findings">${r.findings.map((f) => `<li>${esc(f)}</li>`).join("")}</ul>
<h2>Round by round</h2>
${charts.map((c) => `<h3>${esc(c.title)}</h3><figure>${c.svg}</figure>`).join("\n")}
<h2>Last round</h2>
${lastRoundTable(r)}
<h2>The group loop</h2>
<p>One movie per world, equally liked inside and outside the group, is put first in the group's lists (unless seen) for the first rounds; the chart above follows the share of its loop watchers who are in the group.</p>
<table><tr><th>seed</th><th>pushed movie</th><th>group</th><th>rounds pushed</th><th>group's share of users</th></tr>${pushes}</table>
<h2>Definitions</h2>
<table>${METRIC_DEFINITIONS.map((d) => `<tr><th>${esc(d.metric)}</th><td>${esc(d.definition)}</td></tr>`).join("")}</table>
</body></html>
`;
}
