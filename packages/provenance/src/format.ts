import type { ReleaseDiff } from "./diff.ts";
import type { GcResult } from "./gc.ts";

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** gc's result as a few lines: what stays, what went (or would go with --dry-run). */
export function formatGc(r: GcResult): string {
  const verb = r.dryRun ? "would remove" : "removed";
  const running = r.running.length ? `; running: ${r.running.join(", ")}` : "";
  return [
    `kept ${r.kept.length} release(s): ${r.kept.join(", ") || "(none)"}${running}`,
    `${verb} ${r.removed.length} object(s), ${mb(r.freedBytes)}, and ${r.removedRefs.length} ref(s)`,
    ...r.removedRefs.map((ref) => `  ref ${ref}`),
  ].join("\n") + "\n";
}

/** diff's result as text: one section per kind of change. */
export function formatDiff(d: ReleaseDiff): string {
  const lines = [`release ${d.a} -> ${d.b}`];
  lines.push(d.commits.error ? `commits: ${d.commits.error}` : `commits: ${d.commits.list.length}`);
  for (const c of d.commits.list) lines.push(`  ${c.hash.slice(0, 12)} ${c.subject} (${c.author}, ${c.date})`);
  lines.push(d.params.length ? "params:" : "params: unchanged");
  for (const p of d.params) lines.push(`  ${p.key}: ${p.a} -> ${p.b}`);
  lines.push("metrics:");
  for (const m of d.metrics) lines.push(`  ${m.key}: ${m.a ?? "-"} -> ${m.b ?? "-"}${m.delta === null ? "" : ` (${m.delta >= 0 ? "+" : ""}${m.delta.toFixed(4)})`}`);
  const x = d.data;
  lines.push(x.same ? `data: same dataset (${x.ratingsA ?? "?"} ratings)` : `data: ${x.ratingsA ?? "?"} -> ${x.ratingsB ?? "?"} ratings (${x.rowsAdded ?? "?"} added), ${x.newUsers ?? "?"} new users, ${x.newMovies ?? "?"} new movies`);
  const t = d.top20;
  lines.push(t ? `top 20 changed for ${t.changed} of ${t.sampled} sampled users (${(100 * t.share).toFixed(1)}%, seed ${t.seed})` : "top 20: not compared (a model is missing)");
  for (const n of d.notes) lines.push(`note: ${n}`);
  return lines.join("\n") + "\n";
}
