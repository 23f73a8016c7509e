import { recommend } from "@recsys/api";
import type { RecModel } from "@recsys/artifact";
import type { Movie } from "@recsys/core";
import type { TrainingData } from "@recsys/train";
import type { MetricColumns } from "./stats.ts";

/** Steck's smoothing of the list's genre distribution, so KL stays finite when a genre is missing. */
const CALIBRATION_ALPHA = 0.01;

export interface ExposureColumns {
  userIds: number[];
  /** calibration: KL(history genres || list genres) per user; tailExposure: long-tail share of the list. */
  columns: { calibration: MetricColumns; tailExposure: MetricColumns };
  /** Each row's list as movie rows of `data` (for coverage and Gini per group). */
  lists: number[][];
}

/** Genre distribution of a set of movies: each movie spreads weight 1 evenly over its genres. */
function genreDistribution(movies: readonly number[], genresOf: readonly string[][]): Map<string, number> {
  const p = new Map<string, number>();
  let total = 0;
  for (const i of movies) {
    const gs = genresOf[i] ?? [];
    for (const g of gs) p.set(g, (p.get(g) ?? 0) + 1 / gs.length);
    if (gs.length) total++;
  }
  for (const [g, w] of p) p.set(g, w / total);
  return p;
}

/** Steck (RecSys 2018): KL(p || q~) with q~ = (1 - alpha) q + alpha p; 0 for a perfectly calibrated list. */
export function calibrationKl(history: Map<string, number>, list: Map<string, number>, alpha = CALIBRATION_ALPHA): number {
  let kl = 0;
  for (const [g, p] of history) {
    if (p > 0) kl += p * Math.log(p / ((1 - alpha) * (list.get(g) ?? 0) + alpha * p));
  }
  return kl;
}

/** Gini of exposure counts over the whole catalogue: 0 = every movie shown equally, 1 = one movie gets all. */
export function gini(counts: ArrayLike<number>): number {
  const c = Float64Array.from(counts).sort();
  const n = c.length, total = c.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += (2 * (i + 1) - n - 1) * c[i]!;
  return s / (n * total);
}

/**
 * What each known user of the data is actually served: the API's own `recommend` on the deployed
 * model (seen movies excluded, no exploration). Per user: genre calibration against their history
 * (every movie rated or watched) and the share of the list from the long tail.
 *
 *     const e = exposureColumns(model, data, movies, inTail);
 */
export function exposureColumns(model: RecModel, data: TrainingData, movies: readonly Movie[], inTail: Uint8Array): ExposureColumns {
  const genresById = new Map(movies.map((m) => [m.id, m.genres.map((g) => g.name)]));
  const genresOf = data.movieIds.map((id) => genresById.get(id) ?? []);
  const history: number[][] = data.userIds.map(() => []);
  for (let r = 0; r < data.ratings.length; r++) history[data.ratings.users[r]!]!.push(data.ratings.items[r]!);
  for (let r = 0; r < data.watches.length; r++) history[data.watches.users[r]!]!.push(data.watches.items[r]!);
  const known = new Set(model.meta.userIds);
  const rows = data.userIds.map((id, u) => [id, u] as const).filter(([id]) => known.has(id));
  const n = rows.length;
  const col = (): MetricColumns => ({ num: new Float64Array(n), den: new Float64Array(n), finish: (x) => x });
  const columns = { calibration: col(), tailExposure: col() };
  const lists = rows.map(([id, u], row) => {
    const list = recommend(model, id).ids.map((m) => data.movieIndex.get(m)).filter((i): i is number => i !== undefined);
    const hist = [...new Set(history[u])];
    if (list.length && hist.some((i) => genresOf[i]!.length)) {
      columns.calibration.num[row] = calibrationKl(genreDistribution(hist, genresOf), genreDistribution(list, genresOf));
      columns.calibration.den[row] = 1;
    }
    if (list.length) {
      columns.tailExposure.num[row] = list.filter((i) => inTail[i]).length / list.length;
      columns.tailExposure.den[row] = 1;
    }
    return list;
  });
  return { userIds: rows.map(([id]) => id), columns, lists };
}
