/**
 * Checks that a simulated stream's ratings are learnable: parses the clean rate lines of
 * events.log (latest per user and movie), holds out 10%, fits a global mean, a bias-only model
 * and a biased MF (SGD), and prints held-out RMSE of each with the rating histogram.
 *
 *     npx tsx packages/simulator/bench/learnability.ts /tmp/sim
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { createRng } from "@recsys/core";

const dir = process.argv[2] ?? "/tmp/sim";
const RATE = /^\d{4}-\d\d-\d\dT[\d:.]+,(\d+),GET \/rate\/([^\s,/=]+)=([1-5])$/;
const latest = new Map<string, number>();
for await (const line of createInterface({ input: createReadStream(join(dir, "events.log")) })) {
  const m = RATE.exec(line);
  if (m) latest.set(`${m[1]}\t${m[2]}`, Number(m[3]));
}
const users = new Map<string, number>(), movies = new Map<string, number>();
const n = latest.size;
const U = new Int32Array(n), M = new Int32Array(n), R = new Float32Array(n);
let k = 0;
const hist = [0, 0, 0, 0, 0, 0];
for (const [key, r] of latest) {
  const [u, m] = key.split("\t") as [string, string];
  U[k] = users.get(u) ?? users.set(u, users.size).size - 1;
  M[k] = movies.get(m) ?? movies.set(m, movies.size).size - 1;
  R[k++] = r;
  hist[r]!++;
}
const rng = createRng(7);
const test = Uint8Array.from({ length: n }, () => (rng.next() < 0.1 ? 1 : 0));
let mu = 0, nTrain = 0;
for (let i = 0; i < n; i++) if (!test[i]) { mu += R[i]!; nTrain++; }
mu /= nTrain;

function fit(factors: number, epochs: number, lr: number, reg: number): number {
  const bu = new Float32Array(users.size), bi = new Float32Array(movies.size);
  const P = Float32Array.from({ length: users.size * factors }, () => 0.1 * rng.normal());
  const Q = Float32Array.from({ length: movies.size * factors }, () => 0.1 * rng.normal());
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const predict = (i: number): number => {
    let x = mu + bu[U[i]!]! + bi[M[i]!]!;
    for (let f = 0; f < factors; f++) x += P[U[i]! * factors + f]! * Q[M[i]! * factors + f]!;
    return x;
  };
  for (let e = 0; e < epochs; e++) {
    for (let i = n - 1; i > 0; i--) { const j = rng.int(i + 1); const t = order[i]!; order[i] = order[j]!; order[j] = t; }
    for (const i of order) {
      if (test[i]) continue;
      const err = R[i]! - predict(i);
      const u = U[i]!, m = M[i]!;
      bu[u]! += lr * (err - reg * bu[u]!);
      bi[m]! += lr * (err - reg * bi[m]!);
      for (let f = 0; f < factors; f++) {
        const p = P[u * factors + f]!, q = Q[m * factors + f]!;
        P[u * factors + f] = p + lr * (err * q - reg * p);
        Q[m * factors + f] = q + lr * (err * p - reg * q);
      }
    }
  }
  let se = 0, cnt = 0;
  for (let i = 0; i < n; i++) if (test[i]) { const p = Math.min(5, Math.max(1, predict(i))); se += (p - R[i]!) ** 2; cnt++; }
  return Math.sqrt(se / cnt);
}

let seMean = 0, cnt = 0;
for (let i = 0; i < n; i++) if (test[i]) { seMean += (mu - R[i]!) ** 2; cnt++; }
const mean = hist.reduce((a, c, s) => a + c * s, 0) / n;
console.log(JSON.stringify({
  ratings: n, users: users.size, movies: movies.size, mean: +mean.toFixed(3),
  histogram: hist.slice(1).map((c) => +(c / n).toFixed(3)),
  rmseGlobalMean: +Math.sqrt(seMean / cnt).toFixed(4),
  rmseBiases: +fit(0, 25, 0.01, 0.05).toFixed(4),
  rmseMF: +fit(20, 30, 0.01, 0.05).toFixed(4),
}));
