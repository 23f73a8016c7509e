/**
 * One SGD pass over rows order[from..to) (Funk/Surprise rule): err = r - pred;
 * b += lr (err - reg b); p += lr (err q - reg p); q += lr (err p_old - reg q). Returns the summed
 * squared error. Self-contained on purpose: its source is shipped to a worker thread as is.
 */
export function sgdKernel(
  P: Float32Array, Q: Float32Array, bu: Float32Array, bi: Float32Array, users: Uint32Array, items: Uint32Array, values: Float32Array,
  order: Uint32Array, from: number, to: number, k: number, mu: number, lr: number, reg: number,
): number {
  let se = 0;
  for (let j = from; j < to; j++) {
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
  return se;
}
