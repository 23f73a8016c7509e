/**
 * Would I-AutoRec help the blend? Seeded 5-fold CV (tune's folds) of the blend's stacking with its
 * three members (MF, SVD++, kNN at the blend's params) and with I-AutoRec (its defaults) as a
 * fourth, on the same member fits: per fold the members are trained on 90% of each user's training
 * ratings, the weights fitted by least squares on the other 10% (as trainBlend does, same split),
 * then the members are refitted on all training ratings and the mixes scored on the test fold.
 *
 *     npx tsx bench/autorec-stack.ts --world DATASET [--movielens DIR]
 */
import {
  BLEND_FOLD, ENGINE_DEFAULTS, implicitItems, knnScorer, loadTrainingData, rawPredict, ratingRange, splitRatings, stackWeights,
  trainAutoRec, trainKnn, trainSgd, trainSvdpp, type RatingSet,
} from "@recsys/train";
import { assignFolds, foldSplit } from "@recsys/tune";
import { readMovieLensRatings } from "./lib/movielens-ratings.ts";

interface CvData { name: string; ratings: RatingSet; nUsers: number; nItems: number }
type Predict = (u: number, i: number) => number;

const NO_WATCHES = { length: 0, users: new Uint32Array(0), items: new Uint32Array(0) };
const EMPTY: RatingSet = { length: 0, users: new Uint32Array(0), items: new Uint32Array(0), values: new Float32Array(0), times: new Float64Array(0) };

async function members(train: RatingSet, held: RatingSet, d: CvData): Promise<Predict[]> {
  const p = ENGINE_DEFAULTS.blend;
  const mf = await trainSgd(train, d.nUsers, d.nItems, p);
  const svdpp = await trainSvdpp(train, implicitItems(train, NO_WATCHES, held, d.nUsers, d.nItems), d.nUsers, d.nItems, p);
  const knn = knnScorer(await trainKnn(train, d.nUsers, d.nItems, p));
  const autorec = await trainAutoRec(train, d.nUsers, d.nItems, ENGINE_DEFAULTS.autorec);
  return [(u, i) => rawPredict(mf, u, i), (u, i) => rawPredict(svdpp, u, i), knn.raw, (u, i) => rawPredict(autorec, u, i)];
}

async function stackCv(d: CvData): Promise<void> {
  const foldOf = assignFolds(d.ratings.length, 5, 42), range = ratingRange(d.ratings);
  const rmse: number[][] = [[], []];
  for (let f = 0; f < 5; f++) {
    const { train, test } = foldSplit(d.ratings, foldOf, f);
    const { train: fit, test: fold } = splitRatings(train, d.nUsers, { mode: "random", fraction: BLEND_FOLD, seed: ENGINE_DEFAULTS.blend.seed });
    const early = await members(fit, fold, d);
    const features = early.map((m) => Float64Array.from({ length: fold.length }, (_, r) => m(fold.users[r]!, fold.items[r]!)));
    const target = fold.values.subarray(0, fold.length);
    const weights = [stackWeights(features.slice(0, 3), target), stackWeights(features, target)];
    const all = await members(train, EMPTY, d);
    weights.forEach((w, variant) => {
      let se = 0;
      for (let r = 0; r < test.length; r++) {
        let p = w[0]!;
        for (let m = 1; m < w.length; m++) p += w[m]! * all[m - 1]!(test.users[r]!, test.items[r]!);
        const e = test.values[r]! - Math.min(range.max, Math.max(range.min, p));
        se += e * e;
      }
      rmse[variant]!.push(Math.sqrt(se / test.length));
    });
    process.stderr.write(`${d.name} fold ${f}: blend ${rmse[0]!.at(-1)!.toFixed(4)}, + autorec ${rmse[1]!.at(-1)!.toFixed(4)} (weights ${weights[1]!.map((x) => x.toFixed(3)).join(" ")})\n`);
  }
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  console.log(`| ${d.name} | ${mean(rmse[0]!).toFixed(4)} | ${mean(rmse[1]!).toFixed(4)} | ${rmse[1]!.filter((x, j) => x < rmse[0]![j]!).length} of 5 |`);
}

const flag = (name: string) => { const j = process.argv.indexOf(name); return j > 0 ? process.argv[j + 1] : undefined; };
console.log("| data | blend (mf + svd++ + knn) | + autorec | folds where lower |\n| --- | --- | --- | --- |");
const world = flag("--world"), movielens = flag("--movielens");
if (world) { const d = await loadTrainingData(world); await stackCv({ name: "simulated (default world)", ratings: d.ratings, nUsers: d.userIds.length, nItems: d.movieIds.length }); }
if (movielens) await stackCv({ name: "ml-latest-small", ...await readMovieLensRatings(movielens) });
