import { rawPredict, type FactorModel } from "./factors.ts";
import type { EngineParams } from "./engine.ts";
import { knnScorer, trainKnn } from "./knn.ts";
import type { RatingSet } from "./ratings.ts";
import type { Scorer } from "./scorer.ts";
import { trainSgd } from "./sgd.ts";
import { splitRatings } from "./split.ts";
import { implicitItems, trainSvdpp, type ImplicitItems } from "./svdpp.ts";
import { trainAutoRec } from "./autorec.ts";
import { ENGINE_DEFAULTS } from "./options.ts";

/** Share of each user's ratings the stacking weights are fitted on (members are refitted on all after). */
export const BLEND_FOLD = 0.1;
export const BLEND_MEMBERS = ["mf", "svdpp", "knn", "autorec"] as const;

interface Members { mf: FactorModel; svdpp: FactorModel; knn: Scorer; autorec: FactorModel }

async function trainMembers(train: RatingSet, nUsers: number, nItems: number, p: EngineParams, implicit: ImplicitItems): Promise<Members> {
  const mf = await trainSgd(train, nUsers, nItems, p);
  const svdpp = await trainSvdpp(train, implicit, nUsers, nItems, p);
  const knn = knnScorer(await trainKnn(train, nUsers, nItems, p));
  // I-AutoRec keeps its own defaults (its reg is lambda, not an SGD reg): with it the blend's CV RMSE
  // fell 0.8460 -> 0.8370 on the world and 0.8413 -> 0.8403 on ml-latest-small (bench/autorec-stack.ts).
  const autorec = await trainAutoRec(train, nUsers, nItems, { ...ENGINE_DEFAULTS.autorec, seed: p.seed });
  return { mf, svdpp, knn, autorec };
}

/**
 * Least-squares weights w (intercept first) so that w0 + sum_m w_m x_m(r) best fits target(r):
 * the normal equations with a tiny ridge (1e-6) for collinear members, solved by Gaussian
 * elimination. `features[m][r]` is member m's prediction for row r.
 *
 *     stackWeights([mf, svdpp, knn], ratings) // [w0, w_mf, w_svdpp, w_knn]
 */
export function stackWeights(features: Float64Array[], target: ArrayLike<number>): number[] {
  const d = features.length + 1, A = Array.from({ length: d }, () => new Float64Array(d + 1));
  const x = new Float64Array(d);
  for (let r = 0; r < target.length; r++) {
    x[0] = 1;
    for (let m = 0; m < features.length; m++) x[m + 1] = features[m]![r]!;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) A[a]![b]! += x[a]! * x[b]!;
      A[a]![d]! += x[a]! * target[r]!;
    }
  }
  for (let a = 0; a < d; a++) A[a]![a]! += 1e-6 * Math.max(1, target.length);
  for (let c = 0; c < d; c++) {
    let pivot = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[pivot]![c]!)) pivot = r;
    [A[c], A[pivot]] = [A[pivot]!, A[c]!];
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= d; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  return Array.from({ length: d }, (_, a) => A[a]![d]! / A[a]![a]!);
}

export interface BlendScorer extends Scorer { weights: number[] }

/**
 * Linear stacking (as the Netflix Prize blends): biased MF, SVD++ (implicit = the user's rated or
 * watched items), item kNN and I-AutoRec are trained on 90% of each user's ratings, their unclipped
 * predictions on the other 10% fit the blend weights by least squares, then the members are
 * refitted on all of `train` and combined with those weights. MF, SVD++ and I-AutoRec's factor
 * form combine into one factor model (factors side by side, biases and means weighted); the kNN member's neighbourhood
 * term is the non-factor part served as a per-(user, item) table.
 *
 *     const blend = await trainBlend(train, nUsers, nItems, engineParams({ engine: "blend" }));
 */
export async function trainBlend(train: RatingSet, nUsers: number, nItems: number, p: EngineParams, implicit?: ImplicitItems): Promise<BlendScorer> {
  const noWatches = { length: 0, users: new Uint32Array(0), items: new Uint32Array(0) };
  const { train: fit, test: fold } = splitRatings(train, nUsers, { mode: "random", fraction: BLEND_FOLD, seed: p.seed });
  const early = await trainMembers(fit, nUsers, nItems, p, implicit ?? implicitItems(fit, noWatches, fold, nUsers, nItems));
  const features = [
    Float64Array.from({ length: fold.length }, (_, r) => rawPredict(early.mf, fold.users[r]!, fold.items[r]!)),
    Float64Array.from({ length: fold.length }, (_, r) => rawPredict(early.svdpp, fold.users[r]!, fold.items[r]!)),
    Float64Array.from({ length: fold.length }, (_, r) => early.knn.raw(fold.users[r]!, fold.items[r]!)),
    Float64Array.from({ length: fold.length }, (_, r) => rawPredict(early.autorec, fold.users[r]!, fold.items[r]!)),
  ];
  const weights = stackWeights(features, fold.values.subarray(0, fold.length));
  const empty = { length: 0, users: new Uint32Array(0), items: new Uint32Array(0), values: new Float32Array(0), times: new Float64Array(0) };
  const all = await trainMembers(train, nUsers, nItems, p, implicit ?? implicitItems(train, noWatches, empty, nUsers, nItems));
  const [w0, wMf, wPp, wKnn, wAr] = weights as [number, number, number, number, number];
  return {
    weights,
    raw: (u, i) => w0 + wMf * rawPredict(all.mf, u, i) + wPp * rawPredict(all.svdpp, u, i) + wKnn * all.knn.raw(u, i) + wAr * rawPredict(all.autorec, u, i),
    serving: () => {
      const knn = all.knn.serving();
      const table = knn.userItemScores!;
      for (let j = 0; j < table.length; j++) table[j]! *= wKnn;
      return { factors: combineFactors([[wMf, all.mf], [wPp, all.svdpp], [wKnn, knn.factors], [wAr, all.autorec]], w0), userItemScores: table };
    },
  };
}

/** sum_m w_m (mean_m + bu_m + bi_m + p_m . q_m) + w0 as one biased MF: user factors scaled by w_m, side by side. */
function combineFactors(members: Array<[number, FactorModel]>, w0: number): FactorModel {
  const first = members[0]![1], nUsers = first.nUsers, nItems = first.nItems;
  const k = members.reduce((s, [, m]) => s + m.k, 0);
  const out: FactorModel = {
    k, nUsers, nItems, globalMean: w0, userBias: new Float32Array(nUsers), itemBias: new Float32Array(nItems),
    userFactors: new Float32Array(nUsers * k), itemFactors: new Float32Array(nItems * k),
  };
  let offset = 0;
  for (const [w, m] of members) {
    out.globalMean += w * m.globalMean;
    for (let u = 0; u < nUsers; u++) {
      out.userBias[u]! += w * m.userBias[u]!;
      for (let f = 0; f < m.k; f++) out.userFactors[u * k + offset + f] = w * m.userFactors[u * m.k + f]!;
    }
    for (let i = 0; i < nItems; i++) {
      out.itemBias[i]! += w * m.itemBias[i]!;
      for (let f = 0; f < m.k; f++) out.itemFactors[i * k + offset + f] = m.itemFactors[i * m.k + f]!;
    }
    offset += m.k;
  }
  return out;
}
