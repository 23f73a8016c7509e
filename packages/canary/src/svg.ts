/**
 * Tiny inline-SVG charts for the HTML report: the report must open on a machine with no
 * internet, so no charting library or CDN, and the two chart kinds needed fit in one file.
 */

export interface Series {
  name: string;
  color: string;
  /** y per x; null leaves a gap in the line. */
  values: (number | null)[];
}

export interface LineChartSpec {
  title: string;
  /** x of each value (e.g. bucket centres). */
  xs: number[];
  /** The x range drawn and where its labels go (e.g. bucket starts). */
  xDomain: [number, number];
  xTicks: number[];
  /** The first series is drawn on top. */
  series: Series[];
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  /** A dashed reference line (a threshold), labelled. */
  reference?: { y: number; label: string };
  /** Force the y range to include these values (e.g. 0, or 1 for a rate). */
  include?: number[];
}

const W = 600;
const H = 280;
const M = { left: 64, right: 20, top: 44, bottom: 36 };
const FONT = `font-family="system-ui, sans-serif" font-size="12"`;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  // The last tick is the first at or above hi, so the highest value stays inside the plot.
  for (let t = Math.floor(lo / step) * step; ; t += step) {
    ticks.push(Number(t.toPrecision(12)));
    if (t >= hi - step * 1e-9) return ticks;
  }
}

function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

const fmt = (n: number) => n.toFixed(1);

function legend(series: readonly { name: string; color: string }[]): string {
  let x = M.left;
  return series.map((s) => {
    const item = `<rect x="${x}" y="22" width="12" height="12" fill="${s.color}"/><text x="${x + 16}" y="32" ${FONT}>${escapeXml(s.name)}</text>`;
    x += 28 + s.name.length * 7;
    return item;
  }).join("");
}

function frame(title: string, yTicks: number[], y: (v: number) => number, formatY: (v: number) => string, body: string): string {
  const grid = yTicks.map((t) =>
    `<line x1="${M.left}" x2="${W - M.right}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#e9ecef"/>` +
    `<text x="${M.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end" ${FONT} fill="#495057">${escapeXml(formatY(t))}</text>`).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}">` +
    `<text x="${M.left}" y="14" ${FONT} font-size="14" font-weight="600">${escapeXml(title)}</text>${grid}` +
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#adb5bd"/>` +
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#adb5bd"/>${body}</svg>`;
}

/** A line chart of several series over shared x values, gaps where a value is null. */
export function lineChart(spec: LineChartSpec): string {
  const ys = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const all = [...ys, ...(spec.include ?? []), ...(spec.reference ? [spec.reference.y] : [])];
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const yTicks = niceTicks(lo, hi === lo ? lo + 1 : hi);
  const y = scale(yTicks[0]!, yTicks.at(-1)!, H - M.bottom, M.top);
  const [x0, x1] = spec.xDomain;
  const x = scale(x0, x1 === x0 ? x0 + 1 : x1, M.left, W - M.right);
  const xTickEvery = Math.max(1, Math.ceil(spec.xTicks.length / 6));
  const xTicks = spec.xTicks.filter((_, i) => i % xTickEvery === 0).map((v) =>
    `<text x="${fmt(x(v))}" y="${H - M.bottom + 16}" text-anchor="middle" ${FONT} fill="#495057">${escapeXml(spec.formatX(v))}</text>`).join("");
  // Drawn in reverse, so the first series (the canary) stays on top where lines overlap.
  const lines = [...spec.series].reverse().map((s) => {
    let d = "";
    let pen = false;
    const dots: string[] = [];
    s.values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      d += `${pen ? "L" : "M"}${fmt(x(spec.xs[i]!))},${fmt(y(v))}`;
      pen = true;
      dots.push(`<circle cx="${fmt(x(spec.xs[i]!))}" cy="${fmt(y(v))}" r="2.5" fill="${s.color}"/>`);
    });
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots.join("")}`;
  }).join("");
  const ref = spec.reference
    ? `<line x1="${M.left}" x2="${W - M.right}" y1="${fmt(y(spec.reference.y))}" y2="${fmt(y(spec.reference.y))}" stroke="#c92a2a" stroke-dasharray="6 4"/>` +
      `<text x="${W - M.right}" y="${fmt(y(spec.reference.y) - 4)}" text-anchor="end" ${FONT} fill="#c92a2a">${escapeXml(spec.reference.label)}</text>`
    : "";
  return frame(spec.title, yTicks, y, spec.formatY, legend(spec.series) + xTicks + ref + lines);
}

export interface IntervalPoint {
  label: string;
  color: string;
  value: number | null;
  ci: [number, number] | null;
  note: string;
}

/** Point estimates with error bars, one column per category (follow rate per release). */
export function intervalChart(title: string, points: IntervalPoint[], formatY: (v: number) => string): string {
  const his = points.flatMap((p) => (p.ci ? [p.ci[1]] : p.value !== null ? [p.value] : []));
  const yTicks = niceTicks(0, Math.max(0.01, ...his));
  const y = scale(0, yTicks.at(-1)!, H - M.bottom, M.top);
  const step = (W - M.left - M.right) / Math.max(1, points.length);
  const body = points.map((p, i) => {
    const cx = M.left + step * (i + 0.5);
    const label = `<text x="${fmt(cx)}" y="${H - M.bottom + 16}" text-anchor="middle" ${FONT}>${escapeXml(p.label)}</text>` +
      `<text x="${fmt(cx)}" y="${H - M.bottom + 30}" text-anchor="middle" ${FONT} fill="#868e96">${escapeXml(p.note)}</text>`;
    if (p.value === null) return label + `<text x="${fmt(cx)}" y="${fmt(y(0) - 8)}" text-anchor="middle" ${FONT} fill="#868e96">no data</text>`;
    const bar = p.ci
      ? `<line x1="${fmt(cx)}" x2="${fmt(cx)}" y1="${fmt(y(p.ci[0]))}" y2="${fmt(y(p.ci[1]))}" stroke="${p.color}" stroke-width="2"/>` +
        [p.ci[0], p.ci[1]].map((v) => `<line x1="${fmt(cx - 10)}" x2="${fmt(cx + 10)}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="${p.color}" stroke-width="2"/>`).join("")
      : "";
    return label + bar + `<circle cx="${fmt(cx)}" cy="${fmt(y(p.value))}" r="5" fill="${p.color}"/>` +
      `<text x="${fmt(cx + 14)}" y="${fmt(y(p.value) + 4)}" ${FONT}>${escapeXml(formatY(p.value))}</text>`;
  }).join("");
  return frame(title, yTicks, y, formatY, body);
}
