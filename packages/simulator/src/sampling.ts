import type { Rng } from "@recsys/core";

/**
 * Walker's alias table: O(1) draws from a fixed discrete distribution. Used for popularity-
 * weighted browsing, where a linear scan over the catalogue per draw would dominate run time.
 */
export interface AliasTable {
  readonly size: number;
  sample(rng: Rng): number;
}

export function aliasTable(weights: ArrayLike<number>): AliasTable {
  const n = weights.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < n; i++) {
    prob[i] = (weights[i]! * n) / total;
    (prob[i]! < 1 ? small : large).push(i);
  }
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    alias[s] = l;
    prob[l] = prob[l]! + prob[s]! - 1;
    (prob[l]! < 1 ? small : large).push(l);
  }
  for (const i of small.concat(large)) prob[i] = 1;
  return {
    size: n,
    sample(rng) {
      const i = rng.int(n);
      return rng.next() < prob[i]! ? i : alias[i]!;
    },
  };
}

/** Index drawn with probability proportional to `weights` (linear; for short lists). */
export function pickWeighted(rng: Rng, weights: ArrayLike<number>, count = weights.length): number {
  let total = 0;
  for (let i = 0; i < count; i++) total += weights[i]!;
  let u = rng.next() * total;
  for (let i = 0; i < count; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return count - 1;
}

/** Poisson draw by inversion; rates here are small (sessions per user per day). */
export function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

/** Geometric number of trials >= 1 with the given mean. */
export function geometric(rng: Rng, mean: number): number {
  if (mean <= 1) return 1;
  const p = 1 / mean;
  return 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - p));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
