import type * as Tf from "@tensorflow/tfjs";

export type TfModule = typeof Tf;

let loading: Promise<TfModule> | undefined;
// A variable, not a literal: the optional package must not be resolved when bundling or type-checking.
const NATIVE_PACKAGE = "@tensorflow/tfjs-node";

/**
 * TensorFlow.js, native if `@tensorflow/tfjs-node` loads (its install script builds a binary
 * that may be missing), else the pure-JS `cpu` backend, announced once on `log`. On that
 * fallback the stock gradient of `gather` (UnsortedSegmentSum) loops over every segment times
 * every row, tens of seconds per batch on a large table, and its `gather` computes an index per
element; we register O(rows) kernels for both (row copies, row sums) instead.
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
      registerFastRowKernels(tf);
      log(`train: @tensorflow/tfjs-node unavailable (${firstLine(err)}); using @tensorflow/tfjs on its pure-JS cpu backend`);
      return tf;
    }
  })();
  return loading;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!.slice(0, 120);
}

interface CpuBackendLike {
  data: { get(id: unknown): { values: Float32Array | Int32Array } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array | Int32Array): Tf.TensorInfo;
}

/** Row gather (axis 0) and its gradient, out[seg[r], :] += x[r, :], each in one pass over the rows. */
function registerFastRowKernels(tf: TfModule): void {
  const stockGather = tf.getKernel("GatherV2", "cpu")!.kernelFunc;
  replaceCpuKernel(tf, "GatherV2", (args) => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs as { x: Tf.TensorInfo; indices: Tf.TensorInfo };
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    if (axis !== 0 || batchDims !== 0 || x.shape.length === 0) return stockGather(args);
    const cpu = backend as unknown as CpuBackendLike;
    const xv = cpu.data.get(x.dataId).values, ids = cpu.data.get(indices.dataId).values;
    const inner = tf.util.sizeFromShape(x.shape.slice(1)), rows = x.shape[0]!;
    const out = x.dtype === "int32" ? new Int32Array(ids.length * inner) : new Float32Array(ids.length * inner);
    for (let r = 0; r < ids.length; r++) {
      const s = ids[r]!;
      if (s < 0 || s >= rows) throw new Error(`gather index ${s} outside [0, ${rows})`);
      out.set(xv.subarray(s * inner, (s + 1) * inner), r * inner);
    }
    return cpu.makeTensorInfo([...indices.shape, ...x.shape.slice(1)], x.dtype, out);
  });
  replaceCpuKernel(tf, "UnsortedSegmentSum", ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: Tf.TensorInfo; segmentIds: Tf.TensorInfo };
    const numSegments = (attrs as { numSegments: number }).numSegments;
    const cpu = backend as unknown as CpuBackendLike;
    const xv = cpu.data.get(x.dataId).values, ids = cpu.data.get(segmentIds.dataId).values;
    const innerShape = x.shape.slice(segmentIds.shape.length), inner = tf.util.sizeFromShape(innerShape);
    const out = new Float32Array(numSegments * inner);
    for (let r = 0; r < ids.length; r++) {
      const s = ids[r]!;
      if (s < 0 || s >= numSegments) continue;
      const o = s * inner, xo = r * inner;
      for (let f = 0; f < inner; f++) out[o + f]! += xv[xo + f]!;
    }
    return cpu.makeTensorInfo([numSegments, ...innerShape], x.dtype, out);
  });
}

function replaceCpuKernel(tf: TfModule, kernelName: string, kernelFunc: Tf.KernelFunc): void {
  tf.unregisterKernel(kernelName, "cpu");
  tf.registerKernel({ kernelName, backendName: "cpu", kernelFunc });
}
