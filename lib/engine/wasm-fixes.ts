// What the WebAssembly backend lacks or does slowly, fixed once for every notebook.
//
// 1. It has no `UnsortedSegmentSum` kernel, and the gradient of `tf.gather` (an embedding lookup,
//    picking the probabilities of the targets) needs it: without it backprop through a lookup throws.
// 2. It sends a matmul to its fast kernel (XNNPACK) only when neither side is transposed, while the
//    stock matmul gradient multiplies by transposed operands, so every backward pass ran a slow
//    scalar loop. Transposing explicitly first (a cheap copy) and then multiplying is measured faster.
// The rest are for speed: a small model's training step is bound by the number of kernels and by a
// few slow ones, not by arithmetic. Lecture 03's MLP (batch 32) trains at ~1,370 steps/s with fixes
// 1-2 alone and ~2,050 with all of them (scripts/bench.ts measures it).
// 3. `Identity`, which autograd runs on every tensor it saves for the backward pass, copies the data;
//    sharing it, as the CPU backend does, is enough, because no kernel writes into its inputs.
// 4. `GatherV2` (the embedding lookup C[X]) took ~40 us for 96 rows; a plain loop takes a few.
//    Its gradient along axis 0 is one segment sum; the stock rule adds two (identity) transposes.
// 5. `Tanh` ran the C library's scalar tanh (~15 ns per number, ~100 us for a [32, 200] batch).
// 6. Softmax cross-entropy as one kernel forward and one backward, in place of ~20 small kernels
//    (see `crossEntropy` in losses.ts, which uses them when the backend has them); over a whole data set
//    (more than 65,536 logits) on our SIMD code: cross-entropy-rows.ts.
// 7. Batched and transposed matmuls (attention's) on XNNPACK: batched-matmul.ts.
// 8. Sums over leading axes (bias gradients) without the stock kernel's transpose: sum-leading-axes.ts.
// 9. ReLU's gradient, dy where x > 0, in one pass (the stock rule runs Step, Cast and Multiply).
// 10. BatchNorm's training forward and backward as one kernel each (lecture 04): batchnorm-kernels.ts.
// 11. Lecture 04's Linear -> BatchNorm1d -> Tanh block as one kernel each way: linear-batchnorm-kernels.ts,
//     which runs it (and SGD's update, fused-ops.ts) on our own WebAssembly SIMD code: simd-kernels.ts.
// 12. A tensor that autograd saves for the backward pass shares its data: the stock engine copies it
//     with an Identity kernel and records a tape node for that copy, ~35 of each per step of lecture 04.
// 13. Lecture 03's small matmuls, tanh and bias gradients on our SIMD code, same bits: mlp-kernels.ts.
// 14. Lecture 05's LayerNorm each way, clipping's norm and scaling, AdamW over all parameters, one
//     kernel each, and ReLU's gradient on SIMD lanes: gpt-kernels.ts.
// 15. A Linear layer with a bias in training (lecture 07's last layer) as one kernel each way, in
//     place of a matmul and an Add forward and three kernels backward, same bits: linear-kernels.ts.
// kernels.ts registers all of them, in one list. Each fix has a test that compares its results and
// gradients with the stock CPU backend.
import * as tf from "@tensorflow/tfjs";
import { float32Tanh } from "./float32-tanh";
import { simdMatMulGradients, simdTanh, simdTanhGrad } from "./mlp-kernels";
import { simdCrossEntropyRows } from "./cross-entropy-rows";
import { simdElementwise } from "./simd-kernels";
import type { Kernel, KernelArgs, WasmBackend } from "./wasm-backend";

/** Custom kernels; losses.ts dispatches on whether the active backend registers them. */
export const SOFTMAX_CROSS_ENTROPY = "SoftmaxCrossEntropy";
export const SOFTMAX_CROSS_ENTROPY_GRAD = "SoftmaxCrossEntropyGrad";
export const TANH_GRAD = "TanhGrad";
export const RELU_GRAD = "ReluGradOnePass";

export type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Record<string, () => tf.Tensor>;

// ---------------------------------------------------------------------------------------------------
// 1. Segment sum, for the gradient of a lookup.

/** out[segmentIds[i], ...] += x[i, ...], for segment ids in [0, numSegments). */
export function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x!;
  const segmentIds = args.inputs.segmentIds!;
  const numSegments = args.attrs!.numSegments as number;
  const backend = args.backend as WasmBackend;
  // segmentIds covers the leading dimensions of x; each id owns a contiguous row of `rowSize` values.
  const rowShape = x.shape.slice(segmentIds.shape.length);
  const rowSize = tf.util.sizeFromShape(rowShape);
  const output = backend.makeOutput([numSegments, ...rowShape], x.dtype);
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
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

// ---------------------------------------------------------------------------------------------------
// 2. Matmul gradient without transposed kernels of its own.

// The stock gradient (tfjs-core's BatchMatMul_grad), its products passed to our BatchMatMul with their
// transpose flags: that kernel reads a transposed operand in place (mlp-kernels.ts) or transposes it
// explicitly first (batched-matmul.ts), so the backward pass never meets the stock kernel's slow
// transposed loop and launches no separate Transpose kernels.
export function batchMatMulGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const grad = dy as tf.Tensor;
  const [a, b] = saved;
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  // A small 2-D product: both gradients from one kernel (mlp-kernels.ts), handed out by the thunks.
  const pair = !transposeA && !transposeB && tf.getBackend() === "wasm" ? simdMatMulGradients(a, b, grad) : undefined;
  if (pair) return { a: () => pair[0], b: () => pair[1] };
  const [gradA, gradB] = batchMatMulGradients(grad, a, b, transposeA, transposeB);
  // A batch broadcast against one matrix (or a batch of 1) gets the sum over the batch, which the
  // stock gradient leaves out (it fails on the shape check).
  return { a: () => sumToShape(gradA(), a.shape), b: () => sumToShape(gradB(), b.shape) };
}

function batchMatMulGradients(grad: tf.Tensor, a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean) {
  const matMul = tf.matMul;
  if (!transposeA && !transposeB) {
    return [() => matMul(grad, b, false, true), () => matMul(a, grad, true, false)];
  } else if (!transposeA && transposeB) {
    return [() => matMul(grad, b, false, false), () => matMul(grad, a, true, false)];
  } else if (transposeA && !transposeB) {
    return [() => matMul(b, grad, false, true), () => matMul(a, grad, false, false)];
  }
  return [() => matMul(b, grad, true, true), () => matMul(grad, a, true, true)];
}

/**
 * Add's gradient: dy for each input, summed over the axes it was broadcast along. The stock rule
 * always ends with a Reshape, a kernel launch even where the shape is already right (a bias's sum
 * over the batch, the other input's dy itself): here only where it is needed.
 */
export function addGradient(stock: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [a, b] = saved;
    if (dy.dtype !== "float32") return stock(dy, saved, attrs);
    return { a: () => sumToShape(dy, a.shape), b: () => sumToShape(dy, b.shape) };
  };
}

/** x summed over the batch axes that `shape` broadcast (missing leading axes, axes of size 1). */
function sumToShape(x: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(x.shape, shape)) return x;
  const axes = tf.backend_util.getReductionAxes(shape, x.shape);
  const summed = axes.length ? x.sum(axes) : x;
  return tf.util.arraysEqual(summed.shape, shape) ? summed : summed.reshape(shape);
}

// ---------------------------------------------------------------------------------------------------
// 3. Identity shares its input's memory (reference-counted) instead of copying it.

export function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x!;
  (backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

// ---------------------------------------------------------------------------------------------------
// 4. Lookup (gather) and its gradient.

/** out[..., indices..., ...] = x[..., indices[k], ...] along `axis`; batched gathers go to the stock kernel. */
export function gather(stock: Kernel): Kernel {
  return (args) => {
    const { inputs, attrs } = args;
    if ((attrs!.batchDims as number) !== 0) return stock(args);
    const x = inputs.x!;
    const indices = inputs.indices!;
    const backend = args.backend as WasmBackend;
    const axis = tf.util.parseAxisParam(attrs!.axis as number, x.shape)[0];
    const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
    const axisSize = x.shape[axis];
    const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
    for (const id of backend.typedArrayFromHeap(indices)) {
      if (!(id >= 0 && id < axisSize)) throw new Error(`GatherV2: the index value ${id} is not in [0, ${axisSize - 1}]`);
    }
    const output = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    const ids = backend.typedArrayFromHeap(indices);
    const source = backend.typedArrayFromHeap(x);
    const target = backend.typedArrayFromHeap(output);
    let to = 0;
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < ids.length; k++) {
        const from = (o * axisSize + ids[k]) * inner;
        for (let j = 0; j < inner; j++) target[to++] = source[from + j];
      }
    }
    return output;
  };
}

/** d x[i] = sum of the rows of dy that looked up row i: one segment sum, for a lookup along axis 0. */
export function gatherGradient(stock: GradFunc): GradFunc {
  return (dy, saved, attrs) => {
    const [x, indices] = saved;
    if ((attrs.batchDims as number) !== 0 || tf.util.parseAxisParam(attrs.axis as number, x.shape)[0] !== 0) {
      return stock(dy, saved, attrs);
    }
    // Our segment sum takes ids of any shape (dy's leading dimensions), so nothing needs reshaping.
    return { x: () => tf.unsortedSegmentSum(dy, indices as tf.Tensor1D, x.shape[0]), indices: () => indices };
  };
}

// ---------------------------------------------------------------------------------------------------
// 5. tanh and its gradient.

// The formula (Eigen's rational approximation) is in float32-tanh.ts.
export function tanh({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const x = inputs.x!;
  const simd = simdTanh(wasm, x); // the same numbers on SIMD lanes (mlp-kernels.ts)
  if (simd) return simd;
  const output = wasm.makeOutput(x.shape, "float32");
  const xs = wasm.typedArrayFromHeap(x);
  const ys = wasm.typedArrayFromHeap(output);
  for (let i = 0; i < xs.length; i++) ys[i] = float32Tanh(xs[i]);
  return output;
}

/** dx = dy * (1 - y^2) in one pass (the stock rule runs four kernels). */
export function tanhGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const simd = simdTanhGrad(wasm, inputs.y!, inputs.dy!);
  if (simd) return simd;
  const output = wasm.makeOutput(inputs.y!.shape, "float32");
  const y = wasm.typedArrayFromHeap(inputs.y!);
  const dy = wasm.typedArrayFromHeap(inputs.dy!);
  const dx = wasm.typedArrayFromHeap(output);
  for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
  return output;
}

export function tanhGradient(dy: tf.Tensor, saved: tf.Tensor[]) {
  const [y] = saved;
  return { x: () => tf.engine().runKernel(TANH_GRAD, { y, dy }) as tf.Tensor };
}

// ---------------------------------------------------------------------------------------------------
// 6. Softmax cross-entropy: loss = mean over rows of logsumexp(logits[i]) - logits[i, targets[i]].

export function softmaxCrossEntropy({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { logits, targets } = inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo };
  const [rows, classes] = logits.shape;
  const output = wasm.makeOutput([], "float32");
  // A training batch's gradient for dy = 1 (what backprop from the loss sends), from the same exps.
  let gradient = rows * classes <= PREPARED_GRADIENT_MAX || tf.engine().state.gradientDepth > 0 ? reusedArray(rows * classes) : undefined;
  prepared = undefined;
  let total = 0;
  const whole = rows * classes > PREPARED_GRADIENT_MAX ? wholeSet(wasm, logits, targets, output, gradient) : undefined;
  if (whole) {
    total = whole.total;
    if (!whole.finite) gradient = undefined;
  } else {
    const values = wasm.typedArrayFromHeap(logits);
    const labels = wasm.typedArrayFromHeap(targets);
    for (let i = 0; i < rows; i++) {
      const row = i * classes;
      const target = checkedTarget(labels[i], classes, () => wasm.disposeData(output.dataId));
      const { max, sum } = rowExps(values, row, classes, gradient);
      if (!Number.isFinite(max)) gradient = undefined; // an infinite (or all-NaN) row: the loss is not finite either way
      total += (Number.isFinite(max) ? max + Math.log(sum) : max) - values[row + target];
      if (gradient) gradientRow(gradient, row, classes, target, sum, 1 / rows);
    }
  }
  if (gradient) prepared = { logits: logits.dataId, targets: targets.dataId, gradient };
  wasm.typedArrayFromHeap(output)[0] = total / rows;
  return output;
}

/** More than PREPARED_GRADIENT_MAX logits (a whole data set) on our SIMD code, targets checked first; undefined where it cannot run. */
function wholeSet(wasm: WasmBackend, logits: tf.TensorInfo, targets: tf.TensorInfo, output: tf.TensorInfo, gradient?: Float32Array) {
  const labels = wasm.typedArrayFromHeap(targets);
  for (let i = 0; i < labels.length; i++) checkedTarget(labels[i], logits.shape[1], () => wasm.disposeData(output.dataId));
  return simdCrossEntropyRows(wasm, logits, targets, 1 / logits.shape[0], gradient);
}

/**
 * The last forward call's gradient for dy = 1, which the backward kernel copies instead of computing
 * the exps again (the same numbers, computed the same way): always inside a gradient computation
 * (`tf.grads` and the like: lecture 02 trains on all 228,146 pairs at once, where computing the exps
 * twice was half its step), and outside one for up to this many logits (a training batch, not a
 * whole split in evaluation).
 */
const PREPARED_GRADIENT_MAX = 1 << 16;
let prepared: { logits: object; targets: object; gradient: Float32Array } | undefined;

function reusedArray(size: number): Float32Array {
  return prepared?.gradient.length === size ? prepared.gradient : new Float32Array(size);
}

/** d logits = (softmax(logits) - onehot(targets)) * dy / rows. */
export function softmaxCrossEntropyGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { logits, targets, dy } = inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo; dy: tf.TensorInfo };
  const [rows, classes] = logits.shape;
  const output = wasm.makeOutput([rows, classes], "float32");
  const scale = wasm.typedArrayFromHeap(dy)[0] / rows;
  const grad = wasm.typedArrayFromHeap(output);
  if (prepared && prepared.logits === logits.dataId && prepared.targets === targets.dataId && scale === 1 / rows) {
    grad.set(prepared.gradient);
    return output;
  }
  const values = wasm.typedArrayFromHeap(logits);
  const labels = wasm.typedArrayFromHeap(targets); // checked by the forward kernel
  for (let i = 0; i < rows; i++) {
    const row = i * classes;
    const { sum } = rowExps(values, row, classes, grad);
    gradientRow(grad, row, classes, labels[i], sum, scale);
  }
  return output;
}

export function softmaxCrossEntropyGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) {
  const [logits, targets] = saved;
  return {
    logits: () => tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_GRAD, { logits, targets, dy: dy as tf.Tensor }) as tf.Tensor,
    targets: () => targets, // integer labels have no gradient; autograd never asks for it
  };
}

/**
 * A row's maximum and sum of exp(value - max) (subtracting the maximum keeps exp from overflowing);
 * with `exps`, each exp is also stored there, at the row's place.
 */
function rowExps(values: tf.backend_util.TypedArray, start: number, length: number, exps?: Float32Array | tf.backend_util.TypedArray): { max: number; sum: number } {
  let max = -Infinity;
  for (let j = start; j < start + length; j++) if (values[j] > max) max = values[j];
  let sum = 0;
  if (exps) for (let j = start; j < start + length; j++) sum += exps[j] = Math.exp(values[j] - max);
  else for (let j = start; j < start + length; j++) sum += Math.exp(values[j] - max);
  return { max, sum };
}

/** grad[row..] holds the row's exps: it becomes (exps / sum - onehot(target)) * scale. */
function gradientRow(grad: Float32Array | tf.backend_util.TypedArray, row: number, classes: number, target: number, sum: number, scale: number): void {
  for (let j = row; j < row + classes; j++) grad[j] *= scale / sum;
  grad[row + target] -= scale;
}

function checkedTarget(target: number, classes: number, cleanUp: () => void): number {
  if (target >= 0 && target < classes) return target;
  cleanUp();
  throw new Error(`crossEntropy: target ${target} is not a class index in [0, ${classes - 1}].`);
}

// ---------------------------------------------------------------------------------------------------
// 9. ReLU's gradient.

/** dx = dy * step(x): dy where x > 0, else 0 (NaN where x is NaN, as the stock step). */
export function reluGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const simd = simdElementwise(wasm, "relu_backward", inputs.x!, inputs.dy!); // the same numbers on SIMD lanes (simd-kernels.c)
  if (simd) return simd;
  const output = wasm.makeOutput(inputs.x!.shape, "float32");
  const x = wasm.typedArrayFromHeap(inputs.x!);
  const dy = wasm.typedArrayFromHeap(inputs.dy!);
  const dx = wasm.typedArrayFromHeap(output);
  for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * (x[i] > 0 ? 1 : x[i] === x[i] ? 0 : NaN);
  return output;
}

export function reluGradient(dy: tf.Tensor, saved: tf.Tensor[]) {
  const [x] = saved;
  return { x: () => tf.engine().runKernel(RELU_GRAD, { x, dy }) as tf.Tensor };
}

// ---------------------------------------------------------------------------------------------------
// 12. Saved tensors share their data.

interface EngineInternals {
  backend: unknown;
  saveTensorsForBackwardMode(tensors: tf.Tensor[]): tf.Tensor[];
  nextTensorId(): number;
  /** Tracks a new tensor on existing data and counts the reference in the backend. */
  incRef(tensor: tf.Tensor, backend: unknown): void;
}

/**
 * Autograd keeps each tensor a gradient needs (a kernel's `inputsToSave`) as a kept copy, so that the
 * forward pass's tf.tidy cannot free it. The stock copy runs the Identity kernel and records it on the
 * tape, which only gradients of gradients use (no lecture takes them). On WASM a new tensor on the
 * same data, counted once more, keeps it just as well, at none of those costs.
 */
export function shareSavedTensors(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  const stock = engine.saveTensorsForBackwardMode.bind(engine);
  engine.saveTensorsForBackwardMode = (tensors) => {
    if (tf.getBackend() !== "wasm") return stock(tensors);
    return tensors.map((tensor) => {
      const copy = new tf.Tensor(tensor.shape, tensor.dtype, tensor.dataId, engine.nextTensorId());
      engine.incRef(copy, engine.backend);
      return tf.keep(copy);
    });
  };
}
