import type { Command } from "./command.ts";

/** Every command, loaded on demand so `recsys ingest` does not pay for TensorFlow or express. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  start: { summary: "run the platform end to end on the embedded default (the README's main job)", load: async () => (await import("./commands/start.ts")).default as Command },
  simulate: { summary: "generate a synthetic streaming site: event log, users, movies, hidden truth", load: async () => (await import("./commands/simulate.ts")).default as Command },
  ingest: { summary: "validate an event stream or MovieLens files into a canonical dataset", load: async () => (await import("./commands/ingest.ts")).default as Command },
  train: { summary: "train matrix factorisation on a dataset; gate on held-out RMSE (exit 3 on failure)", load: async () => (await import("./commands/train.ts")).default as Command },
  tune: { summary: "tune hyper-parameters: seeded k-fold CV, random search with successive halving, best params to params.yaml", load: async () => (await import("./commands/tune.ts")).default as Command },
  evaluate: { summary: "score a model on a dataset: RMSE, MAE, precision/recall/nDCG@20, catalogue coverage", load: async () => (await import("./commands/evaluate.ts")).default as Command },
  serve: { summary: "serve recommendations over HTTP from a model artifact (hot swap, telemetry log, metrics)", load: async () => (await import("./commands/serve.ts")).default as Command },
  route: { summary: "canary router: sticky weighted split over releases, health checks, retries, admin API", load: async () => (await import("./commands/route.ts")).default as Command },
  deploy: { summary: "canary-deploy a model to the running platform: analyse, then promote or roll back", load: async () => (await import("./commands/deploy.ts")).default as Command },
  provenance: { summary: "trace a past answer to its release, model, data and commit; verify releases against their hashes", load: async () => (await import("./commands/provenance.ts")).default as Command },
  fairness: { summary: "fairness report: dataset balance and quality per group, disparities with CIs and p-values (--check exits 4)", load: async () => (await import("./commands/fairness.ts")).default as Command },
  feedback: { summary: "closed-loop feedback experiment: exploration vs coverage, Gini, homogenisation, utility, per-group quality", load: async () => (await import("./commands/feedback.ts")).default as Command },
  canary: { summary: "compare a canary release with the stable ones: promote, continue or roll back, with evidence", load: async () => (await import("./commands/canary.ts")).default as Command },
};
