import { METRICS, type FairnessConfig, type MetricName } from "./config.ts";
import { groupLabels, groupUsers } from "./groups.ts";
import { loadFairnessInputs } from "./load.ts";
import { perUserQuality } from "./quality.ts";
import { datasetBalance, type GroupBalance, type ItemBalance } from "./balance.ts";
import { attributeQuality, mergeColumns, type AttributeQuality } from "./analysis.ts";
import { exposureColumns, genresById, listExposure } from "./exposure.ts";
import { mitigationReport, servedRanking, servedSide, type Mitigation, type MitigationReport } from "./mitigation.ts";
import { badInput } from "./errors.ts";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { DATASET_FILES, readMovies, type Movie } from "@recsys/core";
import { checkRequirements, type RequirementResult } from "./check.ts";
import { groupValues } from "./stats.ts";

export const REPORT_KIND = "recsys-fairness-report";

/** movies.jsonl is optional in a dataset; without it there are no genres and no calibration. */
export async function moviesIfAny(dir: string): Promise<Movie[]> {
  const there = await access(join(dir, DATASET_FILES.movies)).then(() => true, () => false);
  return there ? readMovies(dir) : [];
}

export interface FairnessReport {
  kind: typeof REPORT_KIND;
  version: 1;
  model: { dir: string; modelHash: string; engine: string; dataHash: string };
  data: { dir: string; dataHash: string; users: number; ratings: number; watches: number };
  heldOut: { source: string; ratings: number; users: number; unknownUserRatings: number };
  seed: number;
  config: FairnessConfig;
  /** False when the users file has no demographic or other categorical field; then only item-side analyses. */
  demographics: boolean;
  statement: string | null;
  attributes: { name: string; groups: string[]; users: number }[];
  balance: { items: ItemBalance; groups: Record<string, GroupBalance[]> };
  /** All evaluated users together, the reference for each group's value. */
  overall: Record<MetricName, number>;
  /** What the served lists cover: distinct movies / catalogue and Gini of exposure, overall and per group. */
  exposure: { overall: GroupExposure; groups: Record<string, GroupExposure[]> };
  quality: AttributeQuality[];
  requirements: RequirementResult[];
  passed: boolean;
  /** With --mitigation: the served-list measures before and after it, side by side, and its cost. */
  mitigation: MitigationReport | null;
}

export interface GroupExposure {
  group: string;
  users: number;
  coverage: number;
  gini: number;
}

export interface ReportInput {
  modelDir: string;
  dataDir: string;
  holdoutDir?: string;
  config: FairnessConfig;
  seed: number;
  /** Also measure the served lists after this mitigation (the API's calibrated re-ranking). */
  mitigation?: Mitigation;
  /** Progress text for a TTY line. */
  onProgress?: (text: string) => void;
}

/**
 * Computes the whole fairness report: groups, dataset balance, quality per group with disparities
 * (bootstrap CIs, permutation p-values, activity strata) and the requirements' verdicts.
 *
 *     const report = await buildFairnessReport({ modelDir: "models/m1", dataDir: "data", config: FAIRNESS_DEFAULTS, seed: 42 });
 */
export async function buildFairnessReport(input: ReportInput): Promise<FairnessReport> {
  const { config, seed } = input;
  const progress = input.onProgress ?? (() => {});
  progress("loading model and data");
  const { model, served, data, heldOut, heldOutSource, profile } = await loadFairnessInputs(input.modelDir, input.dataDir, input.holdoutDir);
  const movies = await moviesIfAny(input.dataDir);
  const genres = genresById(movies);
  if (input.mitigation && ![...genres.values()].some((g) => g.length)) {
    throw badInput(`--mitigation calibration needs movie genres: ${input.dataDir} has no ${DATASET_FILES.movies} with genres (use a dataset that has them)`);
  }
  const assignment = groupUsers(data.users, config);
  const demographics = assignment.size > 0;
  progress("dataset balance");
  const balance = datasetBalance(data, assignment, config.headShare);
  progress(`scoring ${heldOut.length} held-out ratings user by user`);
  const q = perUserQuality(model, heldOut, { topN: config.topN, relevantAt: config.relevantAt });
  progress("recommending to every known user as the API does");
  const e = exposureColumns(served, data, movies, balance.inTail);
  const columns = mergeColumns(q, e);
  const everyone = [Array.from(columns.userIds.keys())];
  const overall = Object.fromEntries(METRICS.map((m) => [m, groupValues(columns.columns[m]!, everyone)[0]!])) as Record<MetricName, number>;
  const quality: AttributeQuality[] = [];
  for (const [attr, labels] of assignment) {
    progress(`quality and disparities by ${attr}`);
    quality.push(attributeQuality(attr, labels, columns, profile, config, seed));
  }
  const exposureOf = (group: string, rows: number[]): GroupExposure => ({ group, users: rows.length, ...listExposure(e.lists, rows, data.movieIds.length) });
  const requirements = demographics ? checkRequirements(quality, config) : [];
  const order = (attr: string) => groupLabels(assignment.get(attr)!, config);
  let mitigation: MitigationReport | null = null;
  if (input.mitigation) {
    progress(`calibrated re-ranking (lambda ${input.mitigation.lambda}): the served lists before and after`);
    const calibration = { lambda: input.mitigation.lambda, candidates: input.mitigation.candidates, genres };
    const groups = new Map([...assignment].map(([attr, labels]) => [attr, { labels, order: order(attr) }]));
    const opts = { topN: config.topN, relevantAt: config.relevantAt };
    const before = servedSide(e, servedRanking(model, heldOut, opts), groups, data.movieIds.length);
    const after = servedSide(exposureColumns(served, data, movies, balance.inTail, calibration), servedRanking(model, heldOut, opts, calibration), groups, data.movieIds.length);
    mitigation = mitigationReport(input.mitigation, before, after);
  }
  return {
    kind: REPORT_KIND, version: 1,
    model: { dir: input.modelDir, modelHash: model.meta.modelHash, engine: model.meta.engine, dataHash: model.meta.dataHash },
    data: { dir: input.dataDir, dataHash: data.manifest.dataHash, users: data.userIds.length, ratings: data.ratings.length, watches: data.watches.length },
    heldOut: { source: heldOutSource, ratings: heldOut.length, users: q.userIds.length, unknownUserRatings: q.unknownUserRatings },
    seed, config, demographics,
    statement: demographics ? null : `${input.dataDir} has no user demographics (no gender, age or other categorical field in users.jsonl): group analyses are skipped, only the item side is reported.`,
    attributes: [...assignment].map(([name, labels]) => ({ name, groups: order(name), users: labels.size })),
    balance: {
      items: balance.items,
      groups: Object.fromEntries([...balance.groups].map(([attr, rows]) => {
        const rank = new Map(order(attr).map((g, i) => [g, i]));
        return [attr, rows.sort((a, b) => rank.get(a.group)! - rank.get(b.group)!)];
      })),
    },
    overall, quality, requirements,
    exposure: {
      overall: exposureOf("all", Array.from(e.userIds.keys())),
      groups: Object.fromEntries([...assignment].map(([attr, labels]) => [attr, order(attr).map((g) => exposureOf(g, e.userIds.flatMap((id, r) => (labels.get(id) === g ? [r] : []))))])),
    },
    passed: requirements.every((r) => r.status !== "fail"),
    mitigation,
  };
}
