// Build stage of docker/Dockerfile: bundles the CLI (and the workspace packages it imports)
// into dist/ with esbuild, the one that tsx already brings, so the final stage holds only the
// code production runs and no node_modules. Run from the `pnpm deploy --prod` output.
import { createRequire } from "node:module";
import { realpathSync } from "node:fs";

const fromTsx = createRequire(realpathSync("node_modules/tsx/package.json"));
const esbuild = fromTsx("esbuild");

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
