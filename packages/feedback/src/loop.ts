import { join } from "node:path";
import { createRng, formatEventTime, hashString } from "@recsys/core";
import { recommend } from "@recsys/api";
import type { RecModel } from "@recsys/artifact";
import { createWorld, respondToRecommendations, trueRating, type WorldOptions } from "@recsys/simulator";
import { UNKNOWN, predict } from "@recsys/train";
import { coverage, gini, homogenisation, rmseByGroup, topShare, utilityPerVisit, type GroupRmse, type ScoredRating } from "./metrics.ts";
import { groupsOf, withPush, type PushPlan } from "./push.ts";
import { ingestAndTrain, type Retrained } from "./retrain.ts";

const DAY_MS = 86_400_000;

/** One closed-loop run: one world (one seed), one exploration share. */
export interface RunSpec {
  epsilon: number;
  seed: number;
  rounds: number;
  world: WorldOptions;
  /** The world's simulated past (writeSimulation's files). */
  historyEvents: string;
  usersFile: string;
  moviesFile: string;
  /** The last day of the history (UTC ms of its midnight); round r is the r-th day after it. */
  historyEndMs: number;
  push: PushPlan;
  /** A folder of this run's own: the dataset is rewritten there each round. */
  workDir: string;
}

/** What one round of one run measured. */
export interface RoundMetrics {
  round: number;
  /** Gini of how often each movie of the catalogue was shown in this round's lists. */
  exposureGini: number;
  /** Share of the catalogue shown to anyone this round. */
  coverage: number;
  /** Mean Jaccard similarity of users' consumed sets (every round so far). */
  homogenisation: number;
  /** Share of this round's watches that went to the top 1% of movies by this round's watches. */
  top1Share: number;
  /** Mean true rating of the picked movie per visit (0 for a list ignored). */
  utility: number;
  /** Share of visits where the user picked something. */
  watchRate: number;
  /** RMSE of the serving model on the ratings users gave this round, overall and per group (`gender:F`, `age:25-34`). */
  rmse: GroupRmse;
  /** The pushed movie's audience: watchers so far in the loop, and how many are in the pushed group. */
  pushed: { pushing: boolean; watchers: number; watchersInGroup: number; inGroupShare: number };
}

export interface RunResult {
  epsilon: number;
  seed: number;
  rounds: RoundMetrics[];
}

/** Whether the model's data has the user rating or watching the movie (the API never re-recommends those; the push does not either). */
function hasSeen(model: RecModel, userId: number, movieId: string): boolean {
  const row = model.meta.userIds.indexOf(userId);
  const item = model.meta.movieIds.indexOf(movieId);
  if (row < 0 || item < 0) return false;
  for (let s = model.seenOffsets[row]!; s < model.seenOffsets[row + 1]!; s++) if (model.seenItems[s] === item) return true;
  return false;
}

/**
 * Runs the loop: each round the current model recommends to every user through the API's own
 * `recommend` (exploration share = epsilon), the simulated users answer by the simulator's
 * choice model, their event lines join the history, which is ingested and trained on again.
 * The world's truth is used only to simulate the users and to score utility; the model sees
 * nothing but the event lines. The users' random draws depend on seed, round and user only, so
 * the runs of one seed differ by their exploration alone (common random numbers).
 *
 *     const result = await runLoop(spec, (round) => progress.update(`round ${round}`));
 */
export async function runLoop(spec: RunSpec, onRound: (round: number) => void = () => {}): Promise<RunResult> {
  const world = createWorld(spec.world);
  const loopBlocks: string[] = [];
  const label = (round: number) => `s${spec.seed}-e${spec.epsilon}-r${round}`;
  const retrain = (round: number): Promise<Retrained> => ingestAndTrain({
    historyEvents: spec.historyEvents, loopBlocks, usersFile: spec.usersFile, moviesFile: spec.moviesFile,
    datasetDir: join(spec.workDir, "dataset"), label: label(round),
  });
  const consumed = world.users.map(() => new Set<number>());
  const groups = world.users.map(groupsOf);
  const pushedIndex = world.movieIndex.get(spec.push.movieId)!;
  let watchers = 0, watchersInGroup = 0;
  const rounds: RoundMetrics[] = [];
  let current = await retrain(0);
  for (let round = 1; round <= spec.rounds; round++) {
    const start = spec.historyEndMs + round * DAY_MS;
    const day = formatEventTime(start).slice(0, 10);
    const pushing = round <= spec.push.rounds;
    const exposure = new Float64Array(world.movies.length), watches = new Float64Array(world.movies.length);
    const picked: number[] = [];
    const scored: ScoredRating[] = [];
    const lines: string[] = [];
    world.users.forEach((user, u) => {
      const rng = createRng(hashString(`${spec.seed}|${round}|${user.user_id}`));
      let ids = recommend(current.model, user.user_id, { exploreShare: spec.epsilon, day }).ids;
      if (pushing && groups[u]!.includes(spec.push.group)) ids = withPush(ids, spec.push.movieId, hasSeen(current.model, user.user_id, spec.push.movieId));
      for (const id of ids) { const i = world.movieIndex.get(id); if (i !== undefined) exposure[i]!++; }
      // Visits spread over the day's first 20 hours, so each round's events stay within its day.
      const r = respondToRecommendations(world, user.user_id, ids, start + rng.int(20 * 3_600_000), rng);
      if (r.movieId === null) return;
      const i = world.movieIndex.get(r.movieId)!;
      watches[i]!++;
      consumed[u]!.add(i);
      picked.push(trueRating(world, user.user_id, r.movieId));
      if (i === pushedIndex) { watchers++; if (groups[u]!.includes(spec.push.group)) watchersInGroup++; }
      if (r.rating !== null) {
        const predicted = predict(current.factors, current.data.userIndex.get(user.user_id) ?? UNKNOWN, current.data.movieIndex.get(r.movieId) ?? UNKNOWN);
        scored.push({ groups: groups[u]!, predicted, actual: r.rating });
      }
      for (const line of r.lines) lines.push(line);
    });
    rounds.push({
      round, exposureGini: gini(exposure), coverage: coverage(exposure), homogenisation: homogenisation(consumed),
      top1Share: topShare(watches, 0.01), utility: utilityPerVisit(picked, world.users.length), watchRate: picked.length / world.users.length,
      rmse: rmseByGroup(scored), pushed: { pushing, watchers, watchersInGroup, inGroupShare: watchers ? watchersInGroup / watchers : NaN },
    });
    onRound(round);
    // ISO times sort as text: the round's lines go into the history in time order.
    lines.sort();
    loopBlocks.push(lines.join("\n") + "\n");
    if (round < spec.rounds) current = await retrain(round);
  }
  return { epsilon: spec.epsilon, seed: spec.seed, rounds };
}
