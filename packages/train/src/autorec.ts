import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { createRng } from "@recsys/core";
import { rawPredict, type FactorModel } from "./factors.ts";
import { ENGINE_DEFAULTS } from "./options.ts";
import { trainSgd } from "./sgd.ts";
import { rowsByKey, shuffleRange, type RatingSet } from "./ratings.ts";
import { createSparseAdam, type SparseAdam } from "./sparse-adam.ts";
import type { EngineHooks, EngineParams } from "./engine.ts";

/**
 * I-AutoRec's weights (Sedhain et al. 2015), H hidden units: encoder W (stored one row of H per
 * user, the column W[:,u] of the paper, so a movie's encoding sums the rows of its raters) and b;
 * decoder V (a row per user) and c. Movie i's code is h_i = sigmoid(b + sum_u W_u x_ui) over its
 * observed ratings x_ui, taken as residuals of a biases-only baseline; the prediction is
 * baseline(u, i) + c_u + V_u . h_i.
 */
export interface AutoRecNet { hidden: number; nUsers: number; W: Float32Array; b: Float32Array; V: Float32Array; c: Float32Array }

/** The training ratings grouped by movie: the raters of movie i are users[offsets[i]..offsets[i+1]). */
export interface ItemColumns { offsets: Uint32Array; users: Uint32Array; x: Float32Array; userRatings: Uint32Array; l2: Float32Array }

/**
 * Columns of the training ratings as residuals of `baseline` (an unobserved rating then reads as
 * the expected one: this is what lets a movie with two ratings get a sensible code), and each user's share of the weight penalty: lambda / (the user's rating count),
 * so that summed over an epoch's observations the penalty is exactly lambda/2 (|W|^2 + |V|^2).
 */
export function itemColumns(train: RatingSet, nUsers: number, nItems: number, baseline: FactorModel, lambda: number): ItemColumns {
  const { offsets, order } = rowsByKey(train.items, train.length, nItems);
  const users = new Uint32Array(train.length), x = new Float32Array(train.length), count = new Uint32Array(nUsers);
  for (let j = 0; j < order.length; j++) { const r = order[j]!; users[j] = train.users[r]!; x[j] = train.values[r]! - rawPredict(baseline, users[j]!, train.items[r]!); count[users[j]!]!++; }
  const l2 = new Float32Array(nUsers);
  for (let u = 0; u < nUsers; u++) if (count[u]) l2[u] = lambda / count[u]!;
  return { offsets, users, x, userRatings: count, l2 };
}

/** Weights drawn N(0, initStd^2) from the seed (W, then V); biases zero. */
export function initAutoRec(nUsers: number, hidden: number, initStd: number, seed: number): AutoRecNet {
  const rng = createRng(seed).fork("autorec-init");
  const W = new Float32Array(nUsers * hidden), V = new Float32Array(nUsers * hidden);
  for (let j = 0; j < W.length; j++) W[j] = rng.normal() * initStd;
  for (let j = 0; j < V.length; j++) V[j] = rng.normal() * initStd;
  return { hidden, nUsers, W, b: new Float32Array(hidden), V, c: new Float32Array(nUsers) };
}

export interface AutoRecOptimiser { W: SparseAdam; b: SparseAdam; V: SparseAdam; c: SparseAdam }

export function createOptimiser(net: AutoRecNet, lr: number): AutoRecOptimiser {
  return { W: createSparseAdam(net.nUsers, net.hidden, lr), b: createSparseAdam(1, net.hidden, lr), V: createSparseAdam(net.nUsers, net.hidden, lr), c: createSparseAdam(net.nUsers, 1, lr) };
}

/** Movie i's code h_i into `h` (doubles); returns h. */
export function encode(net: AutoRecNet, cols: ItemColumns, i: number, h: Float64Array): Float64Array {
  const H = net.hidden, W = net.W;
  for (let f = 0; f < H; f++) h[f] = net.b[f]!;
  for (let j = cols.offsets[i]!, end = cols.offsets[i + 1]!; j < end; j++) {
    const x = cols.x[j]!, o = cols.users[j]! * H;
    for (let f = 0; f < H; f++) h[f]! += x * W[o + f]!;
  }
  for (let f = 0; f < H; f++) h[f] = 1 / (1 + Math.exp(-h[f]!));
  return h;
}

/**
 * Adds the gradient of the objective's share for movies items[from..to) into the optimiser's
 * accumulators for step t, touching only the observed (user, movie) entries: squared error of
 * every observed rating plus each observation's share of the weight penalty (itemColumns).
 * Returns the batch's summed squared error. Cost: about 5 x (the batch's ratings) x H.
 */
export function batchGradient(net: AutoRecNet, cols: ItemColumns, items: Uint32Array, from: number, to: number, opt: AutoRecOptimiser, t: number, scratch: Float64Array[]): number {
  const H = net.hidden, { W, V, c } = net, gW = opt.W.grad, gV = opt.V.grad, gb = opt.b.grad, gc = opt.c.grad;
  const [h, dh] = scratch as [Float64Array, Float64Array];
  const bo = opt.b.row(0, t);
  let se = 0;
  for (let n = from; n < to; n++) {
    const i = items[n]!, start = cols.offsets[i]!, end = cols.offsets[i + 1]!;
    encode(net, cols, i, h);
    dh.fill(0);
    for (let j = start; j < end; j++) {
      const u = cols.users[j]!, vo = u * H, go = opt.V.row(u, t), l2 = cols.l2[u]!;
      let pred = c[u]!;
      for (let f = 0; f < H; f++) pred += V[vo + f]! * h[f]!;
      const e = pred - cols.x[j]!, g = 2 * e;
      se += e * e;
      gc[opt.c.row(u, t)]! += g;
      for (let f = 0; f < H; f++) {
        const vf = V[vo + f]!;
        dh[f]! += g * vf;
        gV[go + f]! += g * h[f]! + l2 * vf;
      }
    }
    // Through the sigmoid: dz = dh h (1 - h); dz is also b's gradient.
    for (let f = 0; f < H; f++) { dh[f] = dh[f]! * h[f]! * (1 - h[f]!); gb[bo + f]! += dh[f]!; }
    for (let j = start; j < end; j++) {
      const u = cols.users[j]!, x = cols.x[j]!, wo = u * H, go = opt.W.row(u, t), l2 = cols.l2[u]!;
      for (let f = 0; f < H; f++) gW[go + f]! += x * dh[f]! + l2 * W[wo + f]!;
    }
  }
  return se;
}

/**
 * I-AutoRec trained by minibatches of `batchSize` shuffled movies with lazy Adam (lr), lambda =
 * reg, H = factors. Deterministic for a seed. The result is an ordinary biased MF (autoRecFactors),
 * so the artifact, the gate, evaluation and the API's top-k serve it unchanged.
 *
 *     const model = await trainAutoRec(train, nUsers, nItems, ENGINE_DEFAULTS.autorec);
 */
export async function trainAutoRec(train: RatingSet, nUsers: number, nItems: number, p: EngineParams, hooks: EngineHooks = {}): Promise<FactorModel> {
  const H = p.factors;
  // The gate's biases-only baseline (sgd defaults, no factors): AutoRec models what it leaves.
  const baseline = await trainSgd(train, nUsers, nItems, { ...ENGINE_DEFAULTS.sgd, factors: 0, seed: p.seed });
  const net = initAutoRec(nUsers, H, p.initStd, p.seed);
  const cols = itemColumns(train, nUsers, nItems, baseline, p.reg);
  const opt = createOptimiser(net, p.lr);
  const rated: number[] = [];
  for (let i = 0; i < nItems; i++) if (cols.offsets[i + 1]! > cols.offsets[i]!) rated.push(i);
  const items = Uint32Array.from(rated), batch = Math.max(1, p.batchSize);
  const rng = createRng(p.seed).fork("autorec-order"), scratch = [new Float64Array(H), new Float64Array(H)];
  let t = 0;
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    await yieldToEventLoop(); // so SIGINT/SIGTERM are heard between epochs
    shuffleRange(items, 0, items.length, rng);
    let se = 0;
    for (let from = 0; from < items.length; from += batch) {
      t++;
      se += batchGradient(net, cols, items, from, Math.min(items.length, from + batch), opt, t, scratch);
      opt.W.step(net.W, t); opt.b.step(net.b, t); opt.V.step(net.V, t); opt.c.step(net.c, t);
    }
    if (hooks.onEpoch) hooks.onEpoch(epoch, Math.sqrt(se / train.length), autoRecFactors(net, cols, baseline));
  }
  return autoRecFactors(net, cols, baseline);
}

/**
 * The trained net as biased MF, exactly: with h0 = sigmoid(b) (the code of a movie nobody rated),
 * Vbar and cbar the means of V and c over users with ratings, D_u = V_u - Vbar, and the
 * baseline's mu, bu, bi:
 *   globalMean = mu + cbar + Vbar . h0, itemBias_i = bi + Vbar . (h_i - h0), itemFactors_i = h_i - h0,
 *   userBias_u = bu + c_u - cbar + D_u . h0, userFactors_u = D_u,
 * which sums to baseline(u, i) + c_u + V_u . h_i. What the fallbacks then predict is AutoRec's own answer:
 * an unknown user gets the average user's prediction (globalMean + itemBias), an unknown movie
 * the user's prediction for a movie with no ratings (globalMean + userBias).
 */
export function autoRecFactors(net: AutoRecNet, cols: ItemColumns, baseline: FactorModel): FactorModel {
  const { hidden: H, nUsers, V, c } = net, nItems = baseline.nItems;
  const h0 = new Float64Array(H), vbar = new Float64Array(H), h = new Float64Array(H);
  for (let f = 0; f < H; f++) h0[f] = 1 / (1 + Math.exp(-net.b[f]!));
  let cbar = 0, n = 0;
  for (let u = 0; u < nUsers; u++) {
    if (!cols.userRatings[u]) continue;
    n++; cbar += c[u]!;
    for (let f = 0; f < H; f++) vbar[f]! += V[u * H + f]!;
  }
  if (n) { cbar /= n; for (let f = 0; f < H; f++) vbar[f]! /= n; }
  let mean = baseline.globalMean + cbar;
  for (let f = 0; f < H; f++) mean += vbar[f]! * h0[f]!;
  const userFactors = new Float32Array(nUsers * H), userBias = new Float32Array(nUsers);
  for (let u = 0; u < nUsers; u++) {
    let bias = baseline.userBias[u]! + c[u]! - cbar;
    for (let f = 0; f < H; f++) { const d = V[u * H + f]! - vbar[f]!; userFactors[u * H + f] = d; bias += d * h0[f]!; }
    userBias[u] = bias;
  }
  const itemFactors = new Float32Array(nItems * H), itemBias = new Float32Array(nItems);
  for (let i = 0; i < nItems; i++) {
    encode(net, cols, i, h);
    let bias = baseline.itemBias[i]!;
    for (let f = 0; f < H; f++) { const d = h[f]! - h0[f]!; itemFactors[i * H + f] = d; bias += vbar[f]! * d; }
    itemBias[i] = bias;
  }
  return { k: H, nUsers, nItems, globalMean: mean, userBias, itemBias, userFactors, itemFactors };
}
