import { initFactorModel, type FactorModel } from "./factors.ts";
import { meanRating, rowsByKey, type RatingSet } from "./ratings.ts";
import type { EngineHooks, EngineParams } from "./engine.ts";

/**
 * Alternating least squares on the same biased MF, kept for comparison with SGD (bench/train.ts):
 * each half-epoch solves every user's [bias, factors] exactly against fixed items, then every
 * item's against fixed users, with weighted-lambda regularisation (reg x ratings of the row,
 * Zhou et al. 2008). Deterministic and embarrassingly parallel, but each row costs a
 * (k+1)^2 Gram matrix per rating plus a Cholesky solve: at k = 100 an epoch costs about as
 * much as 100 SGD epochs. `lr` is unused.
 *
 *     const model = trainAls(train, nUsers, nItems, { ...ENGINE_DEFAULTS.sgd, epochs: 10 });
 */
export function trainAls(train: RatingSet, nUsers: number, nItems: number, p: EngineParams, hooks: EngineHooks = {}): FactorModel {
  const m = initFactorModel(nUsers, nItems, p.factors, meanRating(train), p.initStd, p.seed);
  const byUser = rowsByKey(train.users, train.length, nUsers), byItem = rowsByKey(train.items, train.length, nItems);
  const solver = createRowSolver(p.factors + 1);
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    solveSide(m, train, byUser, train.items, m.itemFactors, m.itemBias, m.userFactors, m.userBias, p.reg, solver);
    solveSide(m, train, byItem, train.users, m.userFactors, m.userBias, m.itemFactors, m.itemBias, p.reg, solver);
    if (hooks.onEpoch) {
      let se = 0;
      for (let r = 0; r < train.length; r++) {
        const u = train.users[r]!, i = train.items[r]!;
        let dot = m.globalMean + m.userBias[u]! + m.itemBias[i]!;
        for (let f = 0; f < m.k; f++) dot += m.userFactors[u * m.k + f]! * m.itemFactors[i * m.k + f]!;
        se += (train.values[r]! - dot) ** 2;
      }
      hooks.onEpoch(epoch, Math.sqrt(se / train.length), m);
    }
  }
  return m;
}

interface RowSolver { A: Float64Array; b: Float64Array; d: number }

function createRowSolver(d: number): RowSolver {
  return { A: new Float64Array(d * d), b: new Float64Array(d), d };
}

/** For each row e with ratings: minimise sum (r - mu - bOther - [1, fOther] . w)^2 + reg n |w|^2 over w = [bias_e, f_e]. */
function solveSide(
  m: FactorModel, s: RatingSet, groups: { offsets: Uint32Array; order: Uint32Array }, other: Uint32Array,
  otherF: Float32Array, otherB: Float32Array, outF: Float32Array, outB: Float32Array, reg: number, sv: RowSolver,
): void {
  const { A, b, d } = sv, k = d - 1;
  for (let e = 0; e + 1 < groups.offsets.length; e++) {
    const from = groups.offsets[e]!, to = groups.offsets[e + 1]!;
    if (from === to) continue;
    A.fill(0); b.fill(0);
    for (let j = from; j < to; j++) {
      const r = groups.order[j]!, o = other[r]!, oo = o * k;
      const y = s.values[r]! - m.globalMean - otherB[o]!;
      // x = [1, otherF[o]]; accumulate the upper triangle of x x^T and y x.
      A[0]! += 1; b[0]! += y;
      for (let a = 1; a < d; a++) {
        const xa = otherF[oo + a - 1]!;
        A[a]! += xa; b[a]! += y * xa;
        const row = a * d;
        for (let c = a; c < d; c++) A[row + c]! += xa * otherF[oo + c - 1]!;
      }
    }
    const lambda = reg * (to - from);
    for (let a = 0; a < d; a++) A[a * d + a]! += lambda;
    choleskySolve(A, b, d);
    outB[e] = b[0]!;
    for (let f = 0; f < k; f++) outF[e * k + f] = b[f + 1]!;
  }
}

/** Solves A x = b in place (x into b) for symmetric positive definite A given by its upper triangle. */
function choleskySolve(A: Float64Array, b: Float64Array, d: number): void {
  // Upper-triangle Cholesky: A = U^T U, U stored in A's upper triangle.
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let sum = A[i * d + j]!;
      for (let t = 0; t < i; t++) sum -= A[t * d + i]! * A[t * d + j]!;
      A[i * d + j] = i === j ? Math.sqrt(sum) : sum / A[i * d + i]!;
    }
  }
  for (let i = 0; i < d; i++) { // U^T z = b
    let sum = b[i]!;
    for (let t = 0; t < i; t++) sum -= A[t * d + i]! * b[t]!;
    b[i] = sum / A[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) { // U x = z
    let sum = b[i]!;
    for (let t = i + 1; t < d; t++) sum -= A[i * d + t]! * b[t]!;
    b[i] = sum / A[i * d + i]!;
  }
}
