import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { rawPredict, type FactorModel } from "./factors.ts";
import { rowsByKey, UNKNOWN, type RatingSet } from "./ratings.ts";
import type { EngineParams } from "./engine.ts";
import type { Scorer } from "./scorer.ts";
import { trainSgd } from "./sgd.ts";

/** Neighbours kept per item: predictions take the best `neighbours` of these that the user rated. */
export const KNN_KEPT_PER_ITEM = 200;

/** See KnnModel.damping; chosen by the bench (packages/train/README.md). */
export const KNN_DAMPING = 0.5;

export interface KnnModel {
  /** Global mean and biases, no factors: b(u,i) = mean + bu + bi. */
  baseline: FactorModel;
  /** Each item's most similar items, best first: items neighbourItems[offsets[i]..offsets[i+1]) with their similarities. */
  offsets: Uint32Array;
  neighbourItems: Uint32Array;
  neighbourSims: Float32Array;
  /** Training ratings by user with their baseline residuals: items byUserItems[userOffsets[u]..userOffsets[u+1]). */
  userOffsets: Uint32Array;
  byUserItems: Uint32Array;
  byUserResiduals: Float32Array;
  neighbours: number;
  /** Added to the similarity sum: pulls a prediction from few or weak neighbours towards the baseline. */
  damping: number;
}

/**
 * Item-item kNN on baseline residuals (Koren 2010, "Factor in the neighbors"; Surprise's
 * KNNBaseline with pearson_baseline): r(u,i) = b(u,i) + sum_j s_ij (r_uj - b(u,j)) / sum_j s_ij
 * over the `neighbours` items j most similar to i that u rated (positive similarities only).
 * s_ij is the Pearson correlation of the two items' baseline residuals over their common raters,
 * shrunk by (n - 1) / (n - 1 + shrinkage). The baseline is biases-only SGD with the params'
 * epochs, lr and reg. Only each item's KNN_KEPT_PER_ITEM best neighbours are kept (memory
 * O(items x 200) instead of items^2); a prediction whose top neighbours among the user's items
 * fall outside them uses fewer. Deterministic for data + params.
 *
 *     const knn = await trainKnn(train, nUsers, nItems, engineParams({ engine: "knn" }));
 */
export async function trainKnn(train: RatingSet, nUsers: number, nItems: number, p: EngineParams): Promise<KnnModel> {
  const baseline = await trainSgd(train, nUsers, nItems, { ...p, factors: 0 });
  const residual = new Float32Array(train.length);
  for (let r = 0; r < train.length; r++) residual[r] = train.values[r]! - rawPredict(baseline, train.users[r]!, train.items[r]!);
  const byUser = rowsByKey(train.users, train.length, nUsers), byItem = rowsByKey(train.items, train.length, nItems);
  const userOffsets = byUser.offsets, byUserItems = new Uint32Array(train.length), byUserResiduals = new Float32Array(train.length);
  for (let j = 0; j < train.length; j++) { const r = byUser.order[j]!; byUserItems[j] = train.items[r]!; byUserResiduals[j] = residual[r]!; }
  const shrinkage = p.shrinkage ?? 100, keep = Math.max(KNN_KEPT_PER_ITEM, p.neighbours ?? 40);
  const sxy = new Float64Array(nItems), sxx = new Float64Array(nItems), syy = new Float64Array(nItems), n = new Uint32Array(nItems);
  const touched = new Uint32Array(nItems);
  const offsets = new Uint32Array(nItems + 1), lists: Array<{ items: Uint32Array; sims: Float32Array }> = [];
  const heap = new BoundedHeap(keep);
  for (let i = 0; i < nItems; i++) {
    if ((i & 255) === 0) await yieldToEventLoop(); // a long loop: let SIGINT be heard
    let nTouched = 0;
    for (let a = byItem.offsets[i]!; a < byItem.offsets[i + 1]!; a++) {
      const r = byItem.order[a]!, u = train.users[r]!, x = residual[r]!;
      for (let b = userOffsets[u]!; b < userOffsets[u + 1]!; b++) {
        const j = byUserItems[b]!, y = byUserResiduals[b]!;
        if (n[j] === 0) touched[nTouched++] = j;
        sxy[j]! += x * y; sxx[j]! += x * x; syy[j]! += y * y; n[j]!++;
      }
    }
    heap.reset();
    for (let t = 0; t < nTouched; t++) {
      const j = touched[t]!, count = n[j]!;
      if (j !== i && count > 1 && sxx[j]! > 0 && syy[j]! > 0) {
        const sim = (sxy[j]! / Math.sqrt(sxx[j]! * syy[j]!)) * ((count - 1) / (count - 1 + shrinkage));
        if (sim > 0) heap.push(sim, j);
      }
      sxy[j] = 0; sxx[j] = 0; syy[j] = 0; n[j] = 0;
    }
    lists.push(heap.drainBestFirst());
    offsets[i + 1] = offsets[i]! + lists[i]!.items.length;
  }
  const neighbourItems = new Uint32Array(offsets[nItems]!), neighbourSims = new Float32Array(offsets[nItems]!);
  lists.forEach((l, i) => { neighbourItems.set(l.items, offsets[i]!); neighbourSims.set(l.sims, offsets[i]!); });
  return { baseline, offsets, neighbourItems, neighbourSims, userOffsets, byUserItems, byUserResiduals, neighbours: p.neighbours ?? 40, damping: KNN_DAMPING };
}

/**
 * The kNN model as a Scorer. Predictions for one user reuse a per-user lookup of their
 * residuals, so scoring a test set grouped by user costs O(ratings + pairs x kept neighbours).
 * `serving()` precomputes the neighbourhood term for every (user, item): nUsers x nItems floats.
 */
export function knnScorer(m: KnnModel): Scorer {
  const nItems = m.baseline.nItems;
  const stamp = new Uint32Array(nItems), value = new Float32Array(nItems);
  let current = UNKNOWN, generation = 0;
  const load = (u: number) => {
    if (u === current) return;
    current = u; generation++;
    for (let b = m.userOffsets[u]!; b < m.userOffsets[u + 1]!; b++) { stamp[m.byUserItems[b]!] = generation; value[m.byUserItems[b]!] = m.byUserResiduals[b]!; }
  };
  const neighbourhood = (u: number, i: number): number => {
    load(u);
    let num = 0, den = 0, found = 0;
    for (let a = m.offsets[i]!; a < m.offsets[i + 1]! && found < m.neighbours; a++) {
      const j = m.neighbourItems[a]!;
      if (stamp[j] !== generation) continue;
      const s = m.neighbourSims[a]!;
      num += s * value[j]!; den += s; found++;
    }
    return den > 0 ? num / (den + m.damping) : 0;
  };
  return {
    raw: (u, i) => rawPredict(m.baseline, u, i) + (u === UNKNOWN || i === UNKNOWN ? 0 : neighbourhood(u, i)),
    serving: () => {
      const nUsers = m.baseline.nUsers, table = new Float32Array(nUsers * nItems);
      for (let u = 0; u < nUsers; u++) for (let i = 0; i < nItems; i++) table[u * nItems + i] = neighbourhood(u, i);
      return { factors: m.baseline, userItemScores: table };
    },
  };
}

/** A min-heap keeping the `capacity` largest (score, item) pairs; ties keep the lower item. */
class BoundedHeap {
  private scores: Float64Array;
  private items: Uint32Array;
  private size = 0;
  constructor(private readonly capacity: number) {
    this.scores = new Float64Array(capacity);
    this.items = new Uint32Array(capacity);
  }
  reset(): void { this.size = 0; }
  private less(a: number, b: number): boolean {
    return this.scores[a]! < this.scores[b]! || (this.scores[a] === this.scores[b] && this.items[a]! > this.items[b]!);
  }
  private swap(a: number, b: number): void {
    const s = this.scores[a]!, t = this.items[a]!;
    this.scores[a] = this.scores[b]!; this.items[a] = this.items[b]!; this.scores[b] = s; this.items[b] = t;
  }
  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < this.size && this.less(l, m)) m = l;
      if (r < this.size && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m); i = m;
    }
  }
  push(score: number, item: number): void {
    if (this.size < this.capacity) {
      let i = this.size++;
      this.scores[i] = score; this.items[i] = item;
      while (i > 0 && this.less(i, (i - 1) >> 1)) { this.swap(i, (i - 1) >> 1); i = (i - 1) >> 1; }
      return;
    }
    if (score < this.scores[0]! || (score === this.scores[0] && item > this.items[0]!)) return;
    this.scores[0] = score; this.items[0] = item;
    this.down(0);
  }
  /** The kept pairs, best first; empties the heap. */
  drainBestFirst(): { items: Uint32Array; sims: Float32Array } {
    const n = this.size, items = new Uint32Array(n), sims = new Float32Array(n);
    for (let k = n - 1; k >= 0; k--) {
      items[k] = this.items[0]!; sims[k] = this.scores[0]!;
      this.size--;
      this.swap(0, this.size);
      this.down(0);
    }
    return { items, sims };
  }
}
