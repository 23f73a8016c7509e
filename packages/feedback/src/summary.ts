import type { SeriesPoint } from "./experiment.ts";
import type { PushPlan } from "./push.ts";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const fix = (d: number) => (x: number) => x.toFixed(d);

/** The measures the findings speak about, how to print them and which direction is good for users and catalogue. */
const FINDING_METRICS: Array<{ metric: string; name: string; format: (x: number) => string; higherIsBetter: boolean }> = [
  { metric: "coverage", name: "catalogue coverage", format: pct, higherIsBetter: true },
  { metric: "exposureGini", name: "exposure Gini", format: fix(3), higherIsBetter: false },
  { metric: "top1Share", name: "the top 1% of movies' share of watches", format: pct, higherIsBetter: false },
  { metric: "homogenisation", name: "homogenisation (mean Jaccard of consumed sets)", format: fix(4), higherIsBetter: false },
  { metric: "utility", name: "true utility per visit (stars)", format: fix(3), higherIsBetter: true },
  { metric: "watchRate", name: "the share of visits that led to a watch", format: pct, higherIsBetter: true },
  { metric: "rmse", name: "RMSE on the round's fresh ratings", format: fix(3), higherIsBetter: false },
];

function at(series: readonly SeriesPoint[], metric: string, epsilon: number, round: number): SeriesPoint | undefined {
  return series.find((p) => p.metric === metric && p.epsilon === epsilon && p.round === round);
}

/** Whether two seeds' bands leave room for no difference at all. */
const overlaps = (a: SeriesPoint, b: SeriesPoint) => a.low <= b.high && b.low <= a.high;

/**
 * Sentences computed from the numbers: for the largest exploration share against the smallest,
 * at the last round, what got better (bought) and what got worse (cost), each with both figures
 * and a note when the seeds' bands overlap (the difference is within noise); then the group loop.
 */
export function summarise(series: readonly SeriesPoint[], settings: { epsilons: number[]; rounds: number; pushGroup: string; pushRounds: number }, pushes: ReadonlyArray<PushPlan>): string[] {
  const eps = [...settings.epsilons].sort((a, b) => a - b);
  const base = eps[0]!, top = eps[eps.length - 1]!, last = settings.rounds;
  if (eps.length < 2) return [`Only one exploration share (${base}) was run: there is nothing to compare it with.`];
  const bought: string[] = [], cost: string[] = [], same: string[] = [];
  for (const f of FINDING_METRICS) {
    const a = at(series, f.metric, base, last), b = at(series, f.metric, top, last);
    if (!a || !b) continue;
    const text = `${f.name} ${f.format(a.mean)} → ${f.format(b.mean)}${overlaps(a, b) ? " (within the seeds' band: not clearly different)" : ""}`;
    if (b.mean === a.mean) same.push(text);
    else if ((b.mean > a.mean) === f.higherIsBetter) bought.push(text);
    else cost.push(text);
  }
  const head = `At round ${last}, exploration ε=${top} against ε=${base} (means over seeds)`;
  const out = [
    bought.length ? `${head} bought: ${bought.join("; ")}.` : `${head} bought nothing measured here.`,
    cost.length ? `It cost: ${cost.join("; ")}.` : "It cost nothing measured here.",
  ];
  if (same.length) out.push(`Unchanged: ${same.join("; ")}.`);
  out.push(...pushFindings(series, settings, eps, pushes));
  return out;
}

function pushFindings(series: readonly SeriesPoint[], s: { rounds: number; pushGroup: string; pushRounds: number }, eps: number[], pushes: ReadonlyArray<PushPlan>): string[] {
  if (s.pushRounds === 0 || pushes.length === 0) return [];
  const share = pushes.reduce((a, p) => a + p.groupShare, 0) / pushes.length;
  const shares = eps.map((e) => ({ e, p: at(series, "pushedInGroupShare", e, s.rounds) })).filter((x) => x.p);
  if (shares.length === 0) return [`The movie pushed to ${s.pushGroup} for rounds 1-${s.pushRounds} found no watcher at all.`];
  const parts = shares.map(({ e, p }) => `${pct(p!.mean)} at ε=${e}`).join(", ");
  const first = shares[0]!.p!.mean, lastShare = shares[shares.length - 1]!.p!.mean;
  const trend = lastShare < first ? "exploration spread its audience beyond the group" : lastShare > first ? "exploration did not spread its audience beyond the group" : "exploration left its audience as it was";
  return [`The movie pushed to ${s.pushGroup} (${pct(share)} of users) in rounds 1-${Math.min(s.pushRounds, s.rounds)} had, by round ${s.rounds}, ${parts} of its loop watchers in that group: ${trend}.`];
}
