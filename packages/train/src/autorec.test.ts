import { describe, expect, it } from "vitest";
import { autoRecFactors, batchGradient, createOptimiser, encode, initAutoRec, itemColumns, trainAutoRec, type AutoRecNet, type ItemColumns } from "./autorec.ts";
import { errorMetrics, rawPredict } from "./factors.ts";
import { trainSgd } from "./sgd.ts";
import { splitRatings } from "./split.ts";
import { ML100K_LIKE, syntheticRatings } from "./synthetic.ts";
import { UNKNOWN } from "./ratings.ts";
import { ENGINE_DEFAULTS } from "./options.ts";

/** The paper's objective, computed directly: squared error on observed ratings + lambda/2 (|W|^2 + |V|^2) over users with ratings. */
function objective(net: AutoRecNet, cols: ItemColumns, nItems: number, lambda: number): number {
  const H = net.hidden, h = new Float64Array(H);
  let j = 0;
  for (let i = 0; i < nItems; i++) {
    encode(net, cols, i, h);
    for (let n = cols.offsets[i]!; n < cols.offsets[i + 1]!; n++) {
      const u = cols.users[n]!;
      let pred = net.c[u]!;
      for (let f = 0; f < H; f++) pred += net.V[u * H + f]! * h[f]!;
      j += (pred - cols.x[n]!) ** 2;
    }
  }
  for (let u = 0; u < net.nUsers; u++) {
    if (!cols.userRatings[u]) continue;
    for (let f = 0; f < H; f++) j += (lambda / 2) * (net.W[u * H + f]! ** 2 + net.V[u * H + f]! ** 2);
  }
  return j;
}

const biasParams = { ...ENGINE_DEFAULTS.sgd, factors: 0 };

describe("I-AutoRec", () => {
  it("its backward pass matches finite differences of the objective (every weight and bias of a tiny net)", async () => {
    const { ratings, nUsers, nItems } = syntheticRatings({ ...ML100K_LIKE, users: 7, items: 6, ratings: 30, seed: 5 });
    const lambda = 0.7, H = 3;
    const net = initAutoRec(nUsers, H, 0.5, 9);
    net.b.set([0.2, -0.1, 0.3]);
    for (let u = 0; u < nUsers; u++) net.c[u] = 0.1 * u - 0.2;
    const cols = itemColumns(ratings, nUsers, nItems, await trainSgd(ratings, nUsers, nItems, { ...biasParams, epochs: 3 }), lambda);
    const opt = createOptimiser(net, 0.001);
    batchGradient(net, cols, Uint32Array.from({ length: nItems }, (_, i) => i), 0, nItems, opt, 1, [new Float64Array(H), new Float64Array(H)]);
    let checked = 0;
    for (const [name, table, grad, touched] of [
      ["W", net.W, opt.W.grad, (j: number) => cols.userRatings[Math.floor(j / H)]], ["V", net.V, opt.V.grad, (j: number) => cols.userRatings[Math.floor(j / H)]],
      ["b", net.b, opt.b.grad, () => 1], ["c", net.c, opt.c.grad, (j: number) => cols.userRatings[j]],
    ] as const) {
      for (let j = 0; j < table.length; j++) {
        if (!touched(j)) continue; // a user without ratings has no gradient (and its row was never zeroed for this step)
        const keep = table[j]!, eps = 1e-2;
        table[j] = keep + eps; const up = table[j]!, jUp = objective(net, cols, nItems, lambda);
        table[j] = keep - eps; const down = table[j]!, jDown = objective(net, cols, nItems, lambda);
        table[j] = keep;
        const numeric = (jUp - jDown) / (up - down);
        expect(grad[j], `${name}[${j}]`).toBeCloseTo(numeric, 2);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3 + 2 * H); // b, and at least a user's c, W and V rows
  });

  const { ratings, nUsers, nItems } = syntheticRatings({ ...ML100K_LIKE, users: 300, items: 200, ratings: 15_000, seed: 21 });
  const { train, test } = splitRatings(ratings, nUsers, { mode: "random", fraction: 0.2, seed: 1 });
  const params = { factors: 20, epochs: 15, lr: 0.003, reg: 100, initStd: 0.03, seed: 3, batchSize: 16 };

  it("learns: beats the biases-only baseline on held-out ratings of a low-rank data set, and the epoch loss falls", async () => {
    const losses: number[] = [];
    const model = await trainAutoRec(train, nUsers, nItems, params, { onEpoch: (_, loss) => losses.push(loss) });
    const base = await trainSgd(train, nUsers, nItems, biasParams);
    expect(losses).toHaveLength(params.epochs);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(errorMetrics(model, test).rmse).toBeLessThan(errorMetrics(base, test).rmse - 0.01);
  });

  it("is the same bytes for the same seed, and differs for another", async () => {
    const a = await trainAutoRec(train, nUsers, nItems, { ...params, epochs: 3 });
    const b = await trainAutoRec(train, nUsers, nItems, { ...params, epochs: 3 });
    const c = await trainAutoRec(train, nUsers, nItems, { ...params, epochs: 3, seed: 4 });
    for (const key of ["userFactors", "itemFactors", "userBias", "itemBias"] as const) expect(Buffer.from(b[key].buffer).equals(Buffer.from(a[key].buffer))).toBe(true);
    expect(b.globalMean).toBe(a.globalMean);
    expect(Buffer.from(c.itemFactors.buffer).equals(Buffer.from(a.itemFactors.buffer))).toBe(false);
  });

  it("its factor form predicts what the net predicts; unknown users get the average user, unknown movies the empty code", async () => {
    const baseline = await trainSgd(train, nUsers, nItems, biasParams), net = initAutoRec(nUsers, 4, 0.3, 2);
    for (let u = 0; u < nUsers; u++) net.c[u] = 0.01 * (u % 7);
    const cols = itemColumns(train, nUsers, nItems, baseline, 1);
    const m = autoRecFactors(net, cols, baseline), h = new Float64Array(4);
    const netPredict = (u: number, i: number, code: Float64Array) => {
      let p = rawPredict(baseline, u, i) + net.c[u]!;
      for (let f = 0; f < 4; f++) p += net.V[u * 4 + f]! * code[f]!;
      return p;
    };
    for (const [u, i] of [[0, 0], [5, 17], [299, 199]] as const) expect(rawPredict(m, u, i)).toBeCloseTo(netPredict(u, i, encode(net, cols, i, h)), 4);
    // An unknown user: the baseline's fallback (mu + bi) plus the average rated user's AutoRec term.
    const rated = Array.from({ length: nUsers }, (_, u) => u).filter((u) => cols.userRatings[u]);
    const mean = (f: (u: number) => number) => rated.reduce((s, u) => s + f(u), 0) / rated.length;
    expect(rawPredict(m, UNKNOWN, 17)).toBeCloseTo(mean((u) => netPredict(u, 17, encode(net, cols, 17, h)) - baseline.userBias[u]!), 4);
    const empty = Float64Array.from(net.b, (b) => 1 / (1 + Math.exp(-b)));
    expect(rawPredict(m, 5, UNKNOWN)).toBeCloseTo(netPredict(5, UNKNOWN, empty), 4);
  });
});
