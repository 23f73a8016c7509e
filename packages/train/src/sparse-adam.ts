/**
 * Lazy (sparse) Adam over the rows of an embedding table held in a typed array: only the rows
 * a minibatch touched move, with the global step's bias correction (as TensorFlow's LazyAdam).
 * A dense Adam would rewrite every row of every table on every step, which on TensorFlow.js's
 * pure-JS backend costs far more than the batch itself.
 */
export interface SparseAdam {
  /** Adds row gradients `grads[j*width ..]` for table rows `rows[j]` (j < n; repeats sum) and applies one step `t` (1-based). */
  apply(table: Float32Array, rows: Int32Array, grads: Float32Array, n: number, t: number): void;
  /**
   * The gradient accumulator, laid out as the table. Callers that compute gradients in place
   * (the AutoRec engine) add into `grad[row(r, t) + f]`: `row` zeroes row r the first time
   * step t asks for it. Then `step(table, t)` moves the rows step t touched.
   */
  readonly grad: Float32Array;
  row(r: number, t: number): number;
  step(table: Float32Array, t: number): void;
}

export function createSparseAdam(nRows: number, width: number, lr: number, beta1 = 0.9, beta2 = 0.999, eps = 1e-8): SparseAdam {
  const m = new Float32Array(nRows * width), v = new Float32Array(nRows * width), acc = new Float32Array(nRows * width);
  const stamp = new Int32Array(nRows).fill(-1);
  // Rows of the current step, in first-touch order; step() moves them and starts the next list.
  let touched = new Int32Array(16), count = 0;
  const row = (r: number, t: number): number => {
    const o = r * width;
    if (stamp[r] !== t) {
      stamp[r] = t;
      if (count === touched.length) { const grown = new Int32Array(touched.length * 2); grown.set(touched); touched = grown; }
      touched[count++] = r;
      acc.fill(0, o, o + width);
    }
    return o;
  };
  const step = (table: Float32Array, t: number): void => {
    const scale = (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t));
    for (let c = 0; c < count; c++) {
      const o = touched[c]! * width;
      for (let f = o; f < o + width; f++) {
        const g = acc[f]!;
        const mf = (m[f] = beta1 * m[f]! + (1 - beta1) * g);
        const vf = (v[f] = beta2 * v[f]! + (1 - beta2) * g * g);
        table[f] = table[f]! - (scale * mf) / (Math.sqrt(vf) + eps);
      }
    }
    count = 0;
  };
  return {
    grad: acc, row, step,
    apply(table, rows, grads, n, t) {
      for (let j = 0; j < n; j++) {
        const o = row(rows[j]!, t), go = j * width;
        for (let f = 0; f < width; f++) acc[o + f]! += grads[go + f]!;
      }
      step(table, t);
    },
  };
}
