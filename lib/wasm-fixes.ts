// What the WebAssembly backend lacks or does slowly, fixed once for every notebook.
//
// 1. It has no `UnsortedSegmentSum` kernel, and the gradient of `tf.gather` (an embedding lookup,
//    picking the probabilities of the targets) needs it: without it backprop through a lookup throws.
// 2. It sends a matmul to its fast kernel (XNNPACK) only when neither side is transposed, while the
//    stock matmul gradient multiplies by transposed operands, so every backward pass ran a slow
//    scalar loop. Transposing explicitly first (a cheap copy) and then multiplying is measured faster.
// Each fix has a test that compares its results and gradients with the stock CPU backend.
import * as tf from "@tensorflow/tfjs";

let registered = false;

export function registerWasmFixes(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: "UnsortedSegmentSum", backendName: "wasm", kernelFunc: unsortedSegmentSum });
  tf.registerGradient({ kernelName: "BatchMatMul", inputsToSave: ["a", "b"], gradFunc: batchMatMulGradient });
}

interface WasmBackend {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/** out[segmentIds[i], ...] += x[i, ...], for segment ids in [0, numSegments). */
function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) {
  const x = args.inputs.x!;
  const segmentIds = args.inputs.segmentIds!;
  const numSegments = args.attrs!.numSegments as number;
  const backend = args.backend as WasmBackend;
  const values = backend.readSync(x.dataId) as tf.backend_util.TypedArray;
  const ids = backend.readSync(segmentIds.dataId) as tf.backend_util.TypedArray;
  // segmentIds covers the leading dimensions of x; each id owns a contiguous row of `rowSize` values.
  const rowSize = tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
  const output = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const sums = backend.typedArrayFromHeap(output);
  sums.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) sums[to + j] += values[from + j];
  }
  return output;
}

/** Swaps the last two axes: the explicit transpose that keeps matmuls on the fast path. */
function transposeLastTwo(x: tf.Tensor): tf.Tensor {
  const axes = x.shape.map((_, i) => i);
  const n = axes.length;
  [axes[n - 2], axes[n - 1]] = [axes[n - 1], axes[n - 2]];
  return tf.transpose(x, axes);
}

function matMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return tf.matMul(transposeA ? transposeLastTwo(a) : a, transposeB ? transposeLastTwo(b) : b);
}

// The stock gradient (tfjs-core's BatchMatMul_grad), with `matMul` above in place of tf.matMul's flags.
function batchMatMulGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const grad = dy as tf.Tensor;
  const [a, b] = saved;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  if (!transposeA && !transposeB) {
    return { a: () => matMul(grad, b, false, true), b: () => matMul(a, grad, true, false) };
  } else if (!transposeA && transposeB) {
    return { a: () => matMul(grad, b, false, false), b: () => matMul(grad, a, true, false) };
  } else if (transposeA && !transposeB) {
    return { a: () => matMul(b, grad, false, true), b: () => matMul(a, grad, false, false) };
  }
  return { a: () => matMul(b, grad, true, true), b: () => matMul(grad, a, true, true) };
}
