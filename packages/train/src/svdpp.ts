import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { createRng } from "@recsys/core";
import { initFactorModel, type FactorModel } from "./factors.ts";
import { meanRating, rowsByUser, shuffleRange as shuffle, type RatingSet } from "./ratings.ts";
import type { EngineHooks, EngineParams } from "./engine.ts";

/** Each user's implicit items N(u) as CSR: items of user u are items[offsets[u]..offsets[u+1]). */
export interface ImplicitItems { offsets: Uint32Array; items: Uint32Array }

/**
 * N(u) = the movies a user rated in `train` or watched, minus the held-out (user, movie) pairs of
 * `exclude`, so the gate never sees a held-out pair through the implicit side. Deduplicated.
 *
 *     const implicit = implicitItems(train, data.watches, test, nUsers, nItems);
 */
export function implicitItems(
  train: RatingSet, watches: { length: number; users: Uint32Array; items: Uint32Array }, exclude: RatingSet, nUsers: number, nItems: number,
): ImplicitItems {
  const held = new Set<number>();
  for (let r = 0; r < exclude.length; r++) held.add(exclude.users[r]! * nItems + exclude.items[r]!);
  const both = { length: train.length + watches.length, users: new Uint32Array(train.length + watches.length), items: new Uint32Array(train.length + watches.length) };
  both.users.set(train.users.subarray(0, train.length)); both.users.set(watches.users.subarray(0, watches.length), train.length);
  both.items.set(train.items.subarray(0, train.length)); both.items.set(watches.items.subarray(0, watches.length), train.length);
  const { offsets, order } = rowsByUser(both as RatingSet, nUsers);
  const outOffsets = new Uint32Array(nUsers + 1), items = new Uint32Array(both.length), owner = new Int32Array(nItems).fill(-1);
  let n = 0;
  for (let u = 0; u < nUsers; u++) {
    for (let j = offsets[u]!; j < offsets[u + 1]!; j++) {
      const i = both.items[order[j]!]!;
      if (owner[i] === u || held.has(u * nItems + i)) continue;
      owner[i] = u; items[n++] = i;
    }
    outOffsets[u + 1] = n;
  }
  return { offsets: outOffsets, items: items.slice(0, n) };
}

/**
 * SVD++ (Koren 2008) by SGD: r(u,i) = mean + bu + bi + qi . (pu + |N(u)|^-1/2 sum_{j in N(u)} yj),
 * so what a user watched shapes their taste vector even where they rated little. Ratings are
 * visited user by user (users and each user's ratings in a fresh seeded order per epoch); the
 * implicit sum is computed once per user and the yj move once per user with the summed gradient
 * (decay compounded per rating), which keeps an epoch O((ratings + implicit items) x k) instead
 * of O(ratings x |N(u)| x k). The returned model folds the implicit sum into the user factors,
 * so it is a plain biased MF in the artifact format.
 *
 *     const model = await trainSvdpp(train, implicit, nUsers, nItems, ENGINE_DEFAULTS.sgd);
 */
export async function trainSvdpp(train: RatingSet, implicit: ImplicitItems, nUsers: number, nItems: number, p: EngineParams, hooks: EngineHooks = {}): Promise<FactorModel> {
  const k = p.factors, lr = p.lr, reg = p.reg;
  const m = initFactorModel(nUsers, nItems, k, meanRating(train), p.initStd, p.seed);
  const Y = new Float32Array(nItems * k); // implicit factors start at zero: SVD++ begins as plain MF
  const { userBias: bu, itemBias: bi, userFactors: P, itemFactors: Q, globalMean: mu } = m;
  const { offsets, order } = rowsByUser(train, nUsers);
  const users = new Uint32Array(nUsers).map((_, u) => u);
  const z = new Float64Array(k), gz = new Float64Array(k);
  const rng = createRng(p.seed).fork("svdpp-order");
  const implicitSum = (u: number, out: Float64Array): number => {
    out.fill(0);
    const from = implicit.offsets[u]!, to = implicit.offsets[u + 1]!;
    if (from === to) return 0;
    const norm = 1 / Math.sqrt(to - from);
    for (let j = from; j < to; j++) { const yo = implicit.items[j]! * k; for (let f = 0; f < k; f++) out[f]! += Y[yo + f]!; }
    for (let f = 0; f < k; f++) out[f]! *= norm;
    return norm;
  };
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    // Once per epoch, so a SIGINT/SIGTERM handler can run during a long training.
    await yieldToEventLoop();
    shuffle(users, 0, nUsers, rng);
    let se = 0;
    for (let x = 0; x < nUsers; x++) {
      const u = users[x]!, from = offsets[u]!, to = offsets[u + 1]!;
      if (from === to) continue;
      shuffle(order, from, to, rng);
      const norm = implicitSum(u, z);
      gz.fill(0);
      const uo = u * k;
      for (let j = from; j < to; j++) {
        const r = order[j]!, i = train.items[r]!, io = i * k;
        // The update is sgd.ts's plus the implicit term, inlined like there: it is the hot loop.
        let dot = 0;
        for (let f = 0; f < k; f++) dot += Q[io + f]! * (P[uo + f]! + z[f]!);
        const err = train.values[r]! - (mu + bu[u]! + bi[i]! + dot);
        se += err * err;
        bu[u] = bu[u]! + lr * (err - reg * bu[u]!);
        bi[i] = bi[i]! + lr * (err - reg * bi[i]!);
        for (let f = 0; f < k; f++) {
          const pf = P[uo + f]!, qf = Q[io + f]!;
          P[uo + f] = pf + lr * (err * qf - reg * pf);
          Q[io + f] = qf + lr * (err * (pf + z[f]!) - reg * qf);
          gz[f]! += err * qf;
        }
      }
      if (norm > 0) {
        const decay = Math.pow(1 - lr * reg, to - from);
        for (let j = implicit.offsets[u]!; j < implicit.offsets[u + 1]!; j++) {
          const yo = implicit.items[j]! * k;
          for (let f = 0; f < k; f++) Y[yo + f] = Y[yo + f]! * decay + lr * norm * gz[f]!;
        }
      }
    }
    if (hooks.onEpoch) hooks.onEpoch(epoch, Math.sqrt(se / train.length), folded(m, implicit, implicitSum, z));
  }
  return folded(m, implicit, implicitSum, z);
}

/** A copy of the model whose user factors include the implicit sum: plain MF for serving. */
function folded(m: FactorModel, implicit: ImplicitItems, implicitSum: (u: number, out: Float64Array) => number, z: Float64Array): FactorModel {
  const userFactors = Float32Array.from(m.userFactors), k = m.k;
  for (let u = 0; u + 1 < implicit.offsets.length; u++) {
    if (implicitSum(u, z) === 0) continue;
    for (let f = 0; f < k; f++) userFactors[u * k + f]! += z[f]!;
  }
  return { ...m, userFactors };
}
