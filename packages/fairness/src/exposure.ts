import { calibrationKl, genreDistribution, recommend, type CalibrationOptions } from "@recsys/api";
import type { RecModel } from "@recsys/artifact";
import type { Movie } from "@recsys/core";
import type { TrainingData } from "@recsys/train";
import type { MetricColumns } from "./stats.ts";

export interface ExposureColumns {
  userIds: number[];
  /** calibration: KL(history genres || list genres) per user; tailExposure: long-tail share of the list. */
  columns: { calibration: MetricColumns; tailExposure: MetricColumns };
  /** Each row's list as movie rows of `data` (for coverage and Gini per group). */
  lists: number[][];
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

/** Genre names by movie id, the table the API's calibrated re-ranking reads. */
export const genresById = (movies: readonly Movie[]) => new Map(movies.map((m) => [m.id, m.genres.map((g) => g.name)]));

/** Catalogue coverage and Gini of exposure of some users' lists (rows of `lists`). */
export function listExposure(lists: readonly number[][], rows: readonly number[], movies: number): { coverage: number; gini: number } {
  const counts = new Float64Array(movies);
  for (const r of rows) for (const i of lists[r]!) counts[i]!++;
  return { coverage: counts.filter((c) => c > 0).length / Math.max(1, movies), gini: gini(counts) };
}

/**
 * What each known user of the data is actually served: the API's own `recommend` on the deployed
 * model (seen movies excluded, no exploration; with `calibration`, re-ranked as the API does when
 * RECSYS_CALIBRATION is set). Per user: genre calibration against their history (every movie
 * rated or watched) and the share of the list from the long tail.
 *
 *     const e = exposureColumns(model, data, movies, inTail);
 */
export function exposureColumns(model: RecModel, data: TrainingData, movies: readonly Movie[], inTail: Uint8Array, calibration?: CalibrationOptions): ExposureColumns {
  const byId = calibration?.genres ?? genresById(movies);
  const genresOf = data.movieIds.map((id) => byId.get(id) ?? []);
  const history: number[][] = data.userIds.map(() => []);
  for (let r = 0; r < data.ratings.length; r++) history[data.ratings.users[r]!]!.push(data.ratings.items[r]!);
  for (let r = 0; r < data.watches.length; r++) history[data.watches.users[r]!]!.push(data.watches.items[r]!);
  const known = new Set(model.meta.userIds);
  const rows = data.userIds.map((id, u) => [id, u] as const).filter(([id]) => known.has(id));
  const n = rows.length;
  const col = (): MetricColumns => ({ num: new Float64Array(n), den: new Float64Array(n), finish: (x) => x });
  const columns = { calibration: col(), tailExposure: col() };
  const lists = rows.map(([id, u], row) => {
    const list = recommend(model, id, { calibration }).ids.map((m) => data.movieIndex.get(m)).filter((i): i is number => i !== undefined);
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
