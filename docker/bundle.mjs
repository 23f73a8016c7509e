// Build stage of docker/Dockerfile: bundles the CLI (and the workspace packages it imports)
// into dist/ with esbuild, the one that tsx already brings, so the final stage holds only the
// code production runs and no node_modules. Run from the `pnpm deploy --prod` output.
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

const fromTsx = createRequire(realpathSync("node_modules/tsx/package.json"));
const esbuild = fromTsx("esbuild");

// The tfjs engine's WebAssembly backend reads its .wasm binaries from disk at run time, which the
// bundle cannot hold: they go next to it in dist/, where packages/train looks when the package
// itself does not resolve (without them training falls back to the pure-JS backend, 2x slower).
const fromTrain = createRequire(realpathSync("node_modules/@recsys/train/package.json"));
const wasmDist = dirname(fromTrain.resolve("@tensorflow/tfjs-backend-wasm"));
mkdirSync("dist", { recursive: true });
// The threaded build is left out: tfjs never starts threads in Node.
for (const name of readdirSync(wasmDist).filter((f) => f.endsWith(".wasm") && !f.includes("threaded"))) copyFileSync(join(wasmDist, name), join("dist", name));

await esbuild.build({
  entryPoints: { main: "src/main.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true, // commands stay lazily loaded: `recsys ingest` does not parse TensorFlow
  format: "esm",
  platform: "node",
  target: "node20",
  // Native add-ons stay out: the TensorFlow engine is optional (packages/train falls back to
  // @tensorflow/tfjs) and is not downloaded in an offline build; dockerode's ssh2 loads its
  // optional crypto and cpu-features bindings in try/catch and runs without them.
  external: ["@tensorflow/tfjs-node", "cpu-features", "*.node"],
  // CommonJS dependencies inside an ESM bundle still call require() and read __dirname.
  banner: {
    js: [
      "import { createRequire as __recsysRequire } from 'node:module';",
      "import { fileURLToPath as __recsysPath } from 'node:url';",
      "const require = __recsysRequire(import.meta.url);",
      "const __filename = __recsysPath(import.meta.url);",
      "const __dirname = __recsysPath(new URL('.', import.meta.url));",
    ].join(" "),
  },
  // The packages' tsconfig extends the workspace's, which is not in the context; nothing
  // in it changes the output.
  tsconfigRaw: {},
  logLevel: "warning",
});

// @recsys/charts renders in a worker thread that imports vega and vega-lite by URL, which the
// bundle above cannot see: they go next to it as dist/vendor/, where charts looks when the
// packages themselves cannot be resolved.
// charts is reached through canary (its report), so it is resolved from there.
const fromCanary = createRequire(realpathSync("node_modules/@recsys/canary/package.json"));
const fromCharts = createRequire(fromCanary.resolve("@recsys/charts"));
await esbuild.build({
  entryPoints: { "vendor/vega": fromCharts.resolve("vega"), "vendor/vega-lite": fromCharts.resolve("vega-lite") },
  outdir: "dist",
  bundle: true,
  splitting: true,
  chunkNames: "vendor/[name]-[hash]",
  format: "esm",
  platform: "node",
  target: "node20",
  // vega's optional canvas renderer: the reports render SVG with renderer "none".
  external: ["canvas"],
  tsconfigRaw: {},
  logLevel: "warning",
});
