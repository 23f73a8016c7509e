/**
 * Which TensorFlow.js backend the tfjs engine should run on where tfjs-node does not install:
 * the pure-JS `cpu` backend against the WebAssembly one (SIMD, and without SIMD), on the same
 * ML100K_LIKE data as bench/train.ts (943 x 1682, 91k ratings, 20% held out per user, seed 1),
 * the tfjs defaults, same seed. Each run is its own child process (a backend is process-wide),
 * the variants alternate round by round, and the load average is printed before and after.
 * Prints the median epoch time and total time over the rounds, and each variant's held-out RMSE
 * (the same objective: they must agree closely).
 *
 *     npx tsx bench/tfjs-backends.ts [--rounds 3] [--epochs 10] [--data 100k|1M]
 *
 * `--data 1M`: bench/train.ts's 1M-rating set (6040 x 3706, ml-1m-shaped) instead.
 *
 * Threads: the wasm backend turns them off in Node (its pthread workers start from blob: URLs,
 * which worker_threads refuses with ERR_WORKER_PATH), so there is no threaded variant to measure.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { ENGINE_DEFAULTS, ML100K_LIKE, errorMetrics, loadTf, splitRatings, syntheticRatings, trainTfjs, type SyntheticOptions } from "@recsys/train";

const DATA: Record<string, SyntheticOptions> = { "100k": ML100K_LIKE, "1M": { ...ML100K_LIKE, users: 6040, items: 3706, ratings: 1_000_000, seed: 8 } };
const VARIANTS = ["cpu", "wasm-simd", "wasm-nosimd"] as const;
type Variant = (typeof VARIANTS)[number];

interface Run { variant: Variant; backend: string; simd: boolean; epochSeconds: number[]; seconds: number; rmse: number }

async function child(variant: Variant, epochs: number, data: string): Promise<Run> {
  if (variant === "wasm-nosimd") {
    // V8 in Node 20 always validates SIMD, so the flag is turned off in the same tfjs instance loadTf
    // imports (resolved from @recsys/train) before the wasm backend starts and picks its binary;
    // loading the backend's package registers the flag.
    const fromTrain = createRequire(fileURLToPath(import.meta.resolve("@recsys/train")));
    fromTrain("@tensorflow/tfjs-backend-wasm");
    (fromTrain("@tensorflow/tfjs") as { env(): { set(flag: string, value: boolean): void } }).env().set("WASM_HAS_SIMD_SUPPORT", false);
  }
  const tf = await loadTf(() => {});
  if (variant === "cpu") await tf.setBackend("cpu");
  const { ratings, nUsers, nItems } = syntheticRatings(DATA[data]!);
  const { train, test } = splitRatings(ratings, nUsers, { mode: "random", fraction: 0.2, seed: 1 });
  const epochSeconds: number[] = [];
  const start = performance.now();
  let last = start;
  const model = await trainTfjs(tf, train, nUsers, nItems, { ...ENGINE_DEFAULTS.tfjs, epochs }, {
    onEpoch: () => { const now = performance.now(); epochSeconds.push((now - last) / 1000); last = now; },
  });
  // Which binary the wasm backend really loaded (read after it started).
  const simd = tf.getBackend() === "wasm" && (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  return { variant, backend: tf.getBackend(), simd, epochSeconds, seconds: (performance.now() - start) / 1000, rmse: errorMetrics(model, test).rmse };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

if (process.argv[2] === "--child") {
  process.stdout.write(JSON.stringify(await child(process.argv[3] as Variant, Number(process.argv[4]), process.argv[5]!)));
} else {
  const flag = (name: string) => { const j = process.argv.indexOf(name); return j > 0 ? process.argv[j + 1] : undefined; };
  const rounds = Number(flag("--rounds") ?? 3), epochs = Number(flag("--epochs") ?? ENGINE_DEFAULTS.tfjs.epochs), data = flag("--data") ?? "100k";
  if (!DATA[data]) throw new Error(`--data ${data}: expected one of ${Object.keys(DATA).join(", ")}`);
  console.log(`load average before: ${load()} (2 shared cores)`);
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const variant of VARIANTS) {
      const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", variant, String(epochs), data], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${variant} failed: ${r.stderr.trim().split("\n").pop()}`);
      runs.push(JSON.parse(r.stdout) as Run);
      process.stderr.write(`round ${round} ${variant}: ${runs.at(-1)!.seconds.toFixed(2)} s\n`);
    }
  }
  console.log(`load average after: ${load()}`);
  console.log(`${data === "100k" ? "ML100K_LIKE" : "1M ratings (6040 x 3706)"}, tfjs defaults (k ${ENGINE_DEFAULTS.tfjs.factors}, batch ${ENGINE_DEFAULTS.tfjs.batchSize}), ${epochs} epochs, ${rounds} alternating rounds`);
  console.log("variant       backend  simd  median s/epoch  median total s  totals (per round)        held-out RMSE");
  for (const variant of VARIANTS) {
    const mine = runs.filter((r) => r.variant === variant);
    const rmse = [...new Set(mine.map((r) => r.rmse.toFixed(6)))].join(" / ");
    console.log([
      variant.padEnd(12), mine[0]!.backend.padEnd(7), (mine[0]!.simd ? "yes" : "no").padEnd(4), median(mine.flatMap((r) => r.epochSeconds)).toFixed(3).padStart(14),
      median(mine.map((r) => r.seconds)).toFixed(2).padStart(15), mine.map((r) => r.seconds.toFixed(2)).join(" ").padEnd(24), rmse,
    ].join("  "));
  }
}
