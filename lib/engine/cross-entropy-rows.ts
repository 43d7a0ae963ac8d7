// Cross-entropy over a whole data set on our SIMD code (simd-kernels.c's cross_entropy_rows). Lecture 02
// trains on all 228,146 pairs at once, and every notebook evaluates whole splits: there the exps dominate,
// and JavaScript's Math.exp takes ~20 ns a number (~130 ms for lecture 02's 6.2M logits) where the SIMD
// polynomial (float32, within 2 ulp of expf) takes a fraction of that. Training batches keep the float64
// loop in wasm-fixes.ts: it is what their recorded runs were trained with, bit for bit.
import * as tf from "@tensorflow/tfjs";
import { address, simdKernels } from "./simd-kernels";
import type { WasmBackend } from "./wasm-backend";

export interface CrossEntropyRows {
  /** The sum over rows of max + log(sum of exps) - logit[target]. */
  total: number;
  /** Whether every row's maximum was finite (else the loss is not finite, and there is no gradient). */
  finite: boolean;
}

/**
 * The loss's sum over the rows of logits [rows, classes] for int32 targets already checked to be class
 * indices; with a `gradient` (room for rows * classes), (softmax - onehot(target)) * scale goes there.
 * Undefined where the module cannot run or the dtypes are not float32 logits and int32 targets.
 */
export function simdCrossEntropyRows(wasm: WasmBackend, logits: tf.TensorInfo, targets: tf.TensorInfo, scale: number, gradient?: Float32Array): CrossEntropyRows | undefined {
  const simd = simdKernels(wasm);
  if (!simd || logits.dtype !== "float32" || targets.dtype !== "int32") return undefined;
  const [rows, classes] = logits.shape;
  const statistics = wasm.makeOutput([2, rows], "float32"); // each row's max, then each row's sum
  const grad = gradient ? wasm.makeOutput([rows, classes], "float32") : undefined;
  try {
    const at = address(wasm, statistics);
    simd.cross_entropy_rows(address(wasm, logits), address(wasm, targets), grad ? address(wasm, grad) : 0, at, at + 4 * rows, rows, classes, scale);
    const stats = wasm.typedArrayFromHeap(statistics); // views made after every allocation: memory may have grown
    const values = wasm.typedArrayFromHeap(logits);
    const labels = wasm.typedArrayFromHeap(targets);
    let total = 0;
    let finite = true;
    for (let i = 0; i < rows; i++) {
      const max = stats[i];
      if (!Number.isFinite(max)) finite = false;
      total += (Number.isFinite(max) ? max + Math.log(stats[rows + i]) : max) - values[i * classes + labels[i]];
    }
    if (grad && gradient && finite) gradient.set(wasm.typedArrayFromHeap(grad));
    return { total: total, finite: finite };
  } finally {
    wasm.disposeData(statistics.dataId);
    if (grad) wasm.disposeData(grad.dataId);
  }
}
