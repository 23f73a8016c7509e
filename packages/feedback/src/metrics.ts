/**
 * The loop's measures, as pure functions over counts and sets, so each can be checked by hand.
 * Movies and users are row numbers; a count array has one entry per movie of the catalogue.
 */

/** Gini of counts over the whole catalogue: 0 = every movie equally, (n-1)/n = one movie has all. */
export function gini(counts: ArrayLike<number>): number {
  const c = Float64Array.from(counts).sort();
  const n = c.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += c[i]!;
  if (n === 0 || total === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += (2 * (i + 1) - n - 1) * c[i]!;
  return s / (n * total);
}

/** Share of the catalogue with a count above zero (catalogue coverage). */
export function coverage(counts: ArrayLike<number>): number {
  let shown = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) shown++;
  return counts.length ? shown / counts.length : 0;
}

/**
 * Share of all counts held by the top `share` of the catalogue (at least one movie; ties do not
 * matter since only the sum of the largest counts is taken). 0 when nothing was counted.
 */
export function topShare(counts: ArrayLike<number>, share = 0.01): number {
  const c = Float64Array.from(counts).sort().reverse();
  const k = Math.max(1, Math.ceil(share * c.length));
  let top = 0, total = 0;
  for (let i = 0; i < c.length; i++) { total += c[i]!; if (i < k) top += c[i]!; }
  return total ? top / total : 0;
}

/**
 * Homogenisation (Chaney, Stewart and Engelhardt 2018): the mean Jaccard similarity
 * |A ∩ B| / |A ∪ B| over every pair of users who consumed something. Pairs are found through
 * each movie's consumers, so the cost is the sum of squared audience sizes, not users².
 * 0 with fewer than two such users.
 */
export function homogenisation(consumed: ReadonlyArray<ReadonlySet<number>>): number {
  const users = consumed.map((s, u) => [u, s] as const).filter(([, s]) => s.size > 0);
  const n = users.length;
  if (n < 2) return 0;
  const audience = new Map<number, number[]>();
  users.forEach(([, s], r) => { for (const i of s) { let a = audience.get(i); if (!a) audience.set(i, (a = [])); a.push(r); } });
  const shared = new Int32Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const mine = users[r]![1];
    const touched: number[] = [];
    for (const i of mine) {
      for (const other of audience.get(i)!) {
        if (other <= r) continue;
        if (shared[other] === 0) touched.push(other);
        shared[other]!++;
      }
    }
    for (const other of touched) {
      const both = shared[other]!;
      sum += both / (mine.size + users[other]![1].size - both);
      shared[other] = 0;
    }
  }
  return sum / ((n * (n - 1)) / 2);
}

/** A rating given in a round, the serving model's prediction for it, and the rater's group labels. */
export interface ScoredRating { groups: readonly string[]; predicted: number; actual: number }

export interface GroupRmse {
  overall: number;
  ratings: number;
  /** Per group label (sorted), over the ratings of that group's users; NaN never appears (a group without ratings is absent). */
  byGroup: Record<string, { rmse: number; ratings: number }>;
}

/** RMSE overall (NaN without ratings) and per group label. */
export function rmseByGroup(rows: readonly ScoredRating[]): GroupRmse {
  const sums = new Map<string, { se: number; n: number }>();
  let se = 0;
  for (const r of rows) {
    const e2 = (r.actual - r.predicted) ** 2;
    se += e2;
    for (const g of r.groups) { const t = sums.get(g) ?? { se: 0, n: 0 }; t.se += e2; t.n++; sums.set(g, t); }
  }
  const byGroup: GroupRmse["byGroup"] = {};
  for (const g of [...sums.keys()].sort()) { const t = sums.get(g)!; byGroup[g] = { rmse: Math.sqrt(t.se / t.n), ratings: t.n }; }
  return { overall: rows.length ? Math.sqrt(se / rows.length) : NaN, ratings: rows.length, byGroup };
}

/**
 * True utility per visit: the mean, over every user served, of the noise-free true rating of
 * the movie they picked from the list, a visit that picked nothing counting 0. So it rises when
 * lists are picked from more often and when what is picked is liked more.
 */
export function utilityPerVisit(pickedTrueRatings: ArrayLike<number>, visits: number): number {
  let s = 0;
  for (let j = 0; j < pickedTrueRatings.length; j++) s += pickedTrueRatings[j]!;
  return visits ? s / visits : 0;
}
