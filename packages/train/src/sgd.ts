import { createRng } from "@recsys/core";
import { initFactorModel, type FactorModel } from "./factors.ts";
import { meanRating, type RatingSet } from "./ratings.ts";
import type { EngineHooks, EngineParams } from "./engine.ts";

/**
 * Shuffled SGD on biased MF (Funk/Surprise style): for each rating in a fresh seeded order per
 * epoch, err = r - pred; b += lr (err - reg b); p += lr (err q - reg p); q += lr (err p_old - reg q).
 * Typed arrays only; one pass costs O(ratings x k). Deterministic for a seed. `k = 0` trains the
 * biases-only baseline.
 *
 *     const model = trainSgd(train, nUsers, nItems, { factors: 100, epochs: 20, lr: 0.005, reg: 0.02, initStd: 0.1, seed: 42 });
 */
export function trainSgd(train: RatingSet, nUsers: number, nItems: number, p: EngineParams, hooks: EngineHooks = {}): FactorModel {
  const k = p.factors;
  const m = initFactorModel(nUsers, nItems, k, meanRating(train), p.initStd, p.seed);
  const { userBias: bu, itemBias: bi, userFactors: P, itemFactors: Q, globalMean: mu } = m;
  const { users, items, values } = train;
  const n = train.length, lr = p.lr, reg = p.reg;
  const order = new Uint32Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  const rng = createRng(p.seed).fork("sgd-order");
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    for (let j = n - 1; j > 0; j--) {
      const s = rng.int(j + 1);
      const t = order[j]!; order[j] = order[s]!; order[s] = t;
    }
    let se = 0;
    for (let j = 0; j < n; j++) {
      const r = order[j]!, u = users[r]!, i = items[r]!, uo = u * k, io = i * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += P[uo + f]! * Q[io + f]!;
      const err = values[r]! - (mu + bu[u]! + bi[i]! + dot);
      se += err * err;
      bu[u] = bu[u]! + lr * (err - reg * bu[u]!);
      bi[i] = bi[i]! + lr * (err - reg * bi[i]!);
      for (let f = 0; f < k; f++) {
        const pf = P[uo + f]!, qf = Q[io + f]!;
        P[uo + f] = pf + lr * (err * qf - reg * pf);
        Q[io + f] = qf + lr * (err * pf - reg * qf);
      }
    }
    hooks.onEpoch?.(epoch, Math.sqrt(se / n), m);
  }
  return m;
}
