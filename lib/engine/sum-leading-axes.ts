// Sum over leading axes (a bias's gradient: dy [B*T, C] summed over the rows) as one pass in JS.
//
// The WASM backend's Sum only reduces the innermost axes: for leading ones it first transposes the
// whole input (a full copy with a strided read) and then sums. Here every row is added into one
// float64 accumulator, in the input's own order; other reductions stay on the stock kernel.
// kernels.ts registers it in place of the stock Sum.
import * as tf from "@tensorflow/tfjs";
import { simdSumRows } from "./mlp-kernels";
import type { KernelArgs, WasmBackend } from "./wasm-backend";

/** The sum, or undefined when it is not a float32 sum over leading axes only (the stock kernel's cases). */
export function sumLeadingAxes({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo | undefined {
  const x = inputs.x!;
  const axes = tf.util.parseAxisParam(attrs!.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((axis, i) => axis === i);
  if (x.dtype !== "float32" || !leading) return undefined;
  const wasm = backend as WasmBackend;
  const kept = x.shape.slice(axes.length);
  const outShape = attrs!.keepDims ? [...axes.map(() => 1), ...kept] : kept;
  const output = wasm.makeOutput(outShape, "float32");
  const inner = tf.util.sizeFromShape(kept);
  const rows = inner === 0 ? 0 : tf.util.sizeFromShape(x.shape) / inner;
  if (simdSumRows(wasm, x, output, rows, inner)) return output; // the same sums on SIMD lanes (mlp-kernels.ts)
  const values = wasm.typedArrayFromHeap(x);
  const sums = wasm.typedArrayFromHeap(output);
  const accumulator = new Float64Array(inner);
  for (let row = 0; row < rows; row++) {
    const start = row * inner;
    for (let j = 0; j < inner; j++) accumulator[j] += values[start + j];
  }
  sums.set(accumulator);
  return output;
}

