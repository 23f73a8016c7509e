import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { createRng } from "@recsys/core";
import { initFactorModel, type FactorModel } from "./factors.ts";
import { meanRating, shuffleRange as shuffle, type RatingSet } from "./ratings.ts";
import type { EngineHooks, EngineParams } from "./engine.ts";
import { createStratumRunner, STRATA } from "./sgd-workers.ts";

/**
 * Shuffled SGD on biased MF in typed arrays, O(ratings x k) per epoch; `k = 0` trains the
 * biases-only baseline. The ratings are cut into STRATA x STRATA blocks by user and movie row
 * parity, each block shuffled afresh per epoch from the seed, and an epoch runs in STRATA
 * sub-epochs of STRATA blocks that share no user and no movie (DSGD, Gemulla et al. 2011).
 * Blocks of one sub-epoch touch disjoint rows, so running them on worker threads (`threads`)
 * gives exactly the bytes of running them one after the other: the result depends on the seed
 * only, never on the thread count.
 *
 *     const model = await trainSgd(train, nUsers, nItems, ENGINE_DEFAULTS.sgd);
 */
export async function trainSgd(train: RatingSet, nUsers: number, nItems: number, p: EngineParams, hooks: EngineHooks = {}, threads = 1): Promise<FactorModel> {
  const k = p.factors;
  const m = initFactorModel(nUsers, nItems, k, meanRating(train), p.initStd, p.seed);
  const runner = await createStratumRunner(m, train, threads);
  try {
    const { order, offsets } = runner;
    const rng = createRng(p.seed).fork("sgd-order");
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      // One thread never leaves the microtask queue: yield once per epoch so SIGINT/SIGTERM are heard.
      await yieldToEventLoop();
      for (let b = 0; b < STRATA * STRATA; b++) shuffle(order, offsets[b]!, offsets[b + 1]!, rng);
      let se = 0;
      for (let sub = 0; sub < STRATA; sub++) se += await runner.subEpoch(sub, { k, mu: m.globalMean, lr: p.lr, reg: p.reg });
      hooks.onEpoch?.(epoch, Math.sqrt(se / train.length), runner.model);
    }
  } finally {
    await runner.close();
  }
  return m;
}
