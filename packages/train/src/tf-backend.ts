import type * as Tf from "@tensorflow/tfjs";

export type TfModule = typeof Tf;

let loading: Promise<TfModule> | undefined;
// A variable, not a literal: the optional package must not be resolved when bundling or type-checking.
const NATIVE_PACKAGE = "@tensorflow/tfjs-node";

/**
 * TensorFlow.js, native if `@tensorflow/tfjs-node` loads (its install script builds a binary
 * that may be missing), else the pure-JS `cpu` backend, announced once on `log`. The engine never
 * differentiates through a gather on the full tables (whose UnsortedSegmentSum gradient loops
 * segments x rows on that backend): see tfjs-engine.ts.
 *
 *     const tf = await loadTf((line) => process.stderr.write(line + "\n"));
 */
export function loadTf(log: (line: string) => void): Promise<TfModule> {
  loading ??= (async () => {
    try {
      const native = (await import(NATIVE_PACKAGE)) as TfModule;
      await native.ready();
      return native;
    } catch (err) {
      const tf = await import("@tensorflow/tfjs");
      // Silences tfjs's own multi-line "install tfjs-node" banner; our one line below says it.
      tf.env().set("IS_TEST", true);
      await tf.setBackend("cpu");
      await tf.ready();
      log(`train: @tensorflow/tfjs-node unavailable (${firstLine(err)}); using @tensorflow/tfjs on its pure-JS cpu backend`);
      return tf;
    }
  })();
  return loading;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!.slice(0, 120);
}
