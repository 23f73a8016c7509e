import { Worker } from "node:worker_threads";
import type { FactorModel } from "./factors.ts";
import type { RatingSet } from "./ratings.ts";
import { sgdKernel } from "./sgd-kernel.ts";

/** Blocks per side of the DSGD grid: one per core of the 2-core target machine. */
export const STRATA = 2;

export interface KernelParams { k: number; mu: number; lr: number; reg: number }

export interface StratumRunner {
  /** Rows grouped by block (block b = userParity * STRATA + itemParity): order[offsets[b]..offsets[b+1]). */
  order: Uint32Array;
  offsets: Uint32Array;
  /** The model, on shared memory while workers run; close() copies it back into the original arrays. */
  model: FactorModel;
  /** Runs the STRATA blocks of sub-epoch `sub` (user block w with movie block (w + sub) % STRATA); returns their squared error. */
  subEpoch(sub: number, kp: KernelParams): Promise<number>;
  close(): Promise<void>;
}

const shared = <T extends Float32Array | Uint32Array>(a: T): T => {
  const ctor = a.constructor as new (buf: SharedArrayBuffer) => T;
  const out = new ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
};

const WORKER_SOURCE = `
const { parentPort, workerData: d } = require("node:worker_threads");
const kernel = (${sgdKernel.toString()});
parentPort.on("message", (m) => {
  parentPort.postMessage(kernel(d.P, d.Q, d.bu, d.bi, d.users, d.items, d.values, d.order, m.from, m.to, m.k, m.mu, m.lr, m.reg));
});`;

/**
 * Groups the ratings into the DSGD blocks and, with threads > 1, starts threads - 1 workers on
 * shared copies of the model and ratings (the calling thread runs one block itself).
 */
export async function createStratumRunner(m: FactorModel, s: RatingSet, threads: number): Promise<StratumRunner> {
  const block = (r: number) => (s.users[r]! % STRATA) * STRATA + (s.items[r]! % STRATA);
  const offsets = new Uint32Array(STRATA * STRATA + 1);
  for (let r = 0; r < s.length; r++) offsets[block(r) + 1]!++;
  for (let b = 0; b < STRATA * STRATA; b++) offsets[b + 1]! += offsets[b]!;
  const fill = offsets.slice(0, STRATA * STRATA);
  const workers = Math.min(Math.max(1, threads), STRATA) - 1;
  const order = workers ? new Uint32Array(new SharedArrayBuffer(4 * s.length)) : new Uint32Array(s.length);
  for (let r = 0; r < s.length; r++) order[fill[block(r)]!++] = r;
  const model = workers ? { ...m, userFactors: shared(m.userFactors), itemFactors: shared(m.itemFactors), userBias: shared(m.userBias), itemBias: shared(m.itemBias) } : m;
  const data = workers ? { users: shared(s.users), items: shared(s.items), values: shared(s.values) } : s;
  const pool = Array.from({ length: workers }, () => new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { P: model.userFactors, Q: model.itemFactors, bu: model.userBias, bi: model.itemBias, users: data.users, items: data.items, values: data.values, order },
  }));
  const runHere = (b: number, kp: KernelParams) => sgdKernel(
    model.userFactors, model.itemFactors, model.userBias, model.itemBias, data.users, data.items, data.values,
    order, offsets[b]!, offsets[b + 1]!, kp.k, kp.mu, kp.lr, kp.reg,
  );
  return {
    order, offsets, model,
    async subEpoch(sub, kp) {
      const blocks = Array.from({ length: STRATA }, (_, w) => w * STRATA + ((w + sub) % STRATA));
      const remote = pool.map((worker, x) => ask(worker, blocks[x + 1]!, offsets, kp));
      let se = 0;
      for (const b of [blocks[0]!, ...blocks.slice(pool.length + 1)]) se += runHere(b, kp);
      return (await Promise.all(remote)).reduce((a, b) => a + b, se);
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
      if (model !== m) {
        m.userFactors.set(model.userFactors); m.itemFactors.set(model.itemFactors);
        m.userBias.set(model.userBias); m.itemBias.set(model.itemBias);
      }
    },
  };
}

/** One block on a worker: resolves with its squared error, rejects if the worker fails. */
function ask(worker: Worker, b: number, offsets: Uint32Array, kp: KernelParams): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, se?: number) => {
      worker.off("message", onMessage); worker.off("error", onError);
      if (err) reject(err); else resolve(se!);
    };
    const onMessage = (se: number) => done(null, se);
    const onError = (err: Error) => done(err);
    worker.on("message", onMessage); worker.on("error", onError);
    worker.postMessage({ from: offsets[b]!, to: offsets[b + 1]!, ...kp });
  });
}
