import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as Tf from "@tensorflow/tfjs";

export type TfModule = typeof Tf;

let loading: Promise<TfModule> | undefined;
// A variable, not a literal: the optional package must not be resolved when bundling or type-checking.
const NATIVE_PACKAGE = "@tensorflow/tfjs-node";
// What the wasm backend reads in Node: the SIMD build where WebAssembly validates SIMD (Node 20
// does), else the plain one. Its threaded build never runs in Node (the backend turns threads
// off there: its pthread workers start from blob: URLs, which worker_threads refuses).
const WASM_BINARIES = ["tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm.wasm"];

/**
 * TensorFlow.js on the fastest backend that starts here, announced once on `log` when it is not
 * the native one: `@tensorflow/tfjs-node` if it loads (its install script builds a binary that may
 * be missing), else `@tensorflow/tfjs` on the WebAssembly backend (about 2x the pure-JS backend on
 * the tfjs engine, same results: packages/train/README.md), else on the pure-JS `cpu` backend.
 * `tf.getBackend()` names the one in use (`tensorflow`, `wasm`, `cpu`). The engine never
 * differentiates through a gather on the full tables (whose UnsortedSegmentSum gradient loops
 * segments x rows on the JS backends): see tfjs-engine.ts.
 *
 * `options.wasmDir` is where the wasm binaries are (default: the package's dist/, or the bundle's
 * own directory, see wasmDir). The first call decides for the process: a backend is process-wide.
 *
 *     const tf = await loadTf((line) => process.stderr.write(line + "\n"));
 */
export function loadTf(log: (line: string) => void, options: { wasmDir?: string } = {}): Promise<TfModule> {
  loading ??= (async () => {
    let nativeError: unknown;
    try {
      const native = (await import(NATIVE_PACKAGE)) as TfModule;
      await native.ready();
      return native;
    } catch (err) {
      nativeError = err;
    }
    const tf = commonJsExports(await import("@tensorflow/tfjs"));
    // Silences tfjs's own multi-line "install tfjs-node" banner; our one line below says it.
    tf.env().set("IS_TEST", true);
    const why = `@tensorflow/tfjs-node unavailable (${firstLine(nativeError)})`;
    const wasmFailure = await startWasm(tf, options.wasmDir ?? wasmDir());
    if (wasmFailure === undefined) {
      log(`train: ${why}; using @tensorflow/tfjs on its wasm backend`);
      return tf;
    }
    await tf.setBackend("cpu");
    await tf.ready();
    log(`train: ${why}, wasm backend ${wasmFailure}; using @tensorflow/tfjs on its pure-JS cpu backend`);
    return tf;
  })();
  return loading;
}

/** Switches `tf` to the wasm backend; on failure says why (and `tf` keeps its backend). */
async function startWasm(tf: TfModule, dir: string): Promise<string | undefined> {
  // Checked first: a missing binary would otherwise abort inside Emscripten with several lines of its own.
  const missing = WASM_BINARIES.find((name) => !existsSync(join(dir, name)));
  if (missing) return `unavailable (${join(dir, missing)} not found)`;
  try {
    const { setWasmPaths } = commonJsExports(await import("@tensorflow/tfjs-backend-wasm"));
    setWasmPaths(dir + "/");
    if (!(await tf.setBackend("wasm"))) return "did not initialise";
    await tf.ready();
    return undefined;
  } catch (err) {
    return `unavailable (${firstLine(err)})`;
  }
}

/** The package's dist/ where it resolves; in the Docker image's bundle (no node_modules), the bundle's own directory, where docker/bundle.mjs copies the binaries. */
function wasmDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm"));
  } catch {
    return dirname(fileURLToPath(import.meta.url));
  }
}

/**
 * A CommonJS package's exports from a dynamic import: Node gives them as named exports (and as
 * `default`), the esbuild bundle of the Docker image only as `default`.
 */
function commonJsExports<T extends object>(namespace: T): T {
  return (namespace as { default?: T }).default ?? namespace;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!.slice(0, 120);
}
