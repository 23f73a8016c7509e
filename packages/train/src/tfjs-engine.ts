import type * as Tf from "@tensorflow/tfjs";
import { createRng, STREAM_RATING_SCALE, type RatingScale } from "@recsys/core";
import { errorMetrics, initFactorModel, type FactorModel } from "./factors.ts";
import { meanRating, shuffleRange, type RatingSet } from "./ratings.ts";
import { createSparseAdam } from "./sparse-adam.ts";
import type { EngineHooks, EngineParams } from "./engine.ts";
import type { TfModule } from "./tf-backend.ts";

/**
 * The same biased MF trained with TensorFlow.js and Adam: per minibatch of `batchSize` shuffled
 * ratings, TF computes loss = mean squared error + reg x (squared norms of the batch's rows and
 * biases) — the objective SGD minimises — and its gradients with respect to the gathered rows
 * only (tf.grads); a lazy Adam then moves just those rows. Gradients of a gather over the full
 * tables would be dense [rows, k] tensors per step, which the pure-JS backend cannot afford.
 * Starts from the same seeded factors as the SGD engine; deterministic for a seed. The epoch's
 * training RMSE clips predictions to the dataset's `scale`, as the held-out figures do.
 *
 *     const tf = await loadTf(console.error);
 *     const model = await trainTfjs(tf, train, nUsers, nItems, { ...params, lr: 0.005, batchSize: 256 });
 */
export async function trainTfjs(tf: TfModule, train: RatingSet, nUsers: number, nItems: number, p: EngineParams, hooks: EngineHooks = {}, scale: RatingScale = STREAM_RATING_SCALE): Promise<FactorModel> {
  const k = p.factors;
  const m = initFactorModel(nUsers, nItems, k, meanRating(train), p.initStd, p.seed);
  const adam = {
    P: createSparseAdam(nUsers, k, p.lr), Q: createSparseAdam(nItems, k, p.lr),
    BU: createSparseAdam(nUsers, 1, p.lr), BI: createSparseAdam(nItems, 1, p.lr),
  };
  const n = train.length, batch = Math.max(1, Math.min(p.batchSize, n));
  const order = new Uint32Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  const rng = createRng(p.seed).fork("tfjs-order");
  const bu = new Int32Array(batch), bi = new Int32Array(batch), br = new Float32Array(batch);
  const pu = new Float32Array(batch * k), qi = new Float32Array(batch * k), b1 = new Float32Array(batch), b2 = new Float32Array(batch);
  // Row dot products as [B,1,k] x [B,k,1] batched matmuls: their gradients are matmuls too,
  // where sum(P*Q, 1) would backpropagate through a broadcast the cpu backend walks index by index.
  const rowDot = (a: Tf.Tensor, b: Tf.Tensor, size: number) => tf.matMul(a.reshape([size, 1, k]), b.reshape([size, k, 1])).reshape([size]);
  const lossOf = (r: Tf.Tensor1D, size: number) => (P: Tf.Tensor, Q: Tf.Tensor, B1: Tf.Tensor, B2: Tf.Tensor): Tf.Scalar => {
    const pred = B1.add(B2).add(rowDot(P, Q, size)).add(m.globalMean);
    const norms = rowDot(P, P, size).add(rowDot(Q, Q, size)).add(B1.square()).add(B2.square());
    return r.sub(pred).square().add(norms.mul(p.reg)).mean() as Tf.Scalar;
  };
  let t = 0;
  for (let epoch = 1; epoch <= p.epochs; epoch++) {
    shuffleRange(order, 0, n, rng);
    for (let start = 0; start < n; start += batch) {
      const size = Math.min(batch, n - start);
      for (let j = 0; j < size; j++) {
        const r = order[start + j]!, u = train.users[r]!, i = train.items[r]!;
        bu[j] = u; bi[j] = i; br[j] = train.values[r]!;
        pu.set(m.userFactors.subarray(u * k, u * k + k), j * k);
        qi.set(m.itemFactors.subarray(i * k, i * k + k), j * k);
        b1[j] = m.userBias[u]!; b2[j] = m.itemBias[i]!;
      }
      // Return tensors from tidy, not arrays: tidy walks its result element by element.
      const grads = tf.tidy(() => {
        const inputs = [
          tf.tensor2d(pu.subarray(0, size * k), [size, k]), tf.tensor2d(qi.subarray(0, size * k), [size, k]),
          tf.tensor1d(b1.subarray(0, size)), tf.tensor1d(b2.subarray(0, size)),
        ];
        return tf.grads(lossOf(tf.tensor1d(br.subarray(0, size)), size) as (...x: Tf.Tensor[]) => Tf.Scalar)(inputs);
      }).map((g) => { const values = g.dataSync() as Float32Array; g.dispose(); return values; });
      t++;
      adam.P.apply(m.userFactors, bu, grads[0]!, size, t);
      adam.Q.apply(m.itemFactors, bi, grads[1]!, size, t);
      adam.BU.apply(m.userBias, bu, grads[2]!, size, t);
      adam.BI.apply(m.itemBias, bi, grads[3]!, size, t);
    }
    if (hooks.onEpoch) hooks.onEpoch(epoch, errorMetrics(m, train, scale).rmse, m);
  }
  return m;
}
