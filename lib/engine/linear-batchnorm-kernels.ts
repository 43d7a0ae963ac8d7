// Lecture 04's block, Linear (no bias) -> BatchNorm1d (training) -> Tanh, as one WASM kernel forward
// and one backward, so that autograd records one step per block instead of three.
//
// With one kernel per layer (batchnorm-kernels.ts and the matmul), a block still costs three tape
// entries, three kernel launches and five saved tensors forward, and six kernels backward (two
// explicit transposes among them); the deep net has six blocks, and its step is bound by such fixed
// costs, not by arithmetic. Here:
//   LinearBatchNormTrain      x [B, in], weight [in, out], gamma, beta, runningMean, runningVar [out]
//                             -> y [B, out] (tanh(z), or z without tanh), h = x @ weight, z = BatchNorm(h),
//                                the new runningMean, the new runningVar
//   LinearBatchNormLink       x, weight, gamma, beta, h, y -> y (the same memory): the one step autograd records
//   LinearBatchNormTrainGrad  x, weight, gamma, h, y, dy -> dx, dweight, dgamma, dbeta
// The forward kernel runs off the tape (its outputs feed nothing autograd follows but the link), so
// the backward pass does not make zero gradients for its four other outputs, which it would for
// every output of a recorded step that the loss does not use: four tensors per block per step.
// Both kernels run as one call of our WebAssembly SIMD code (simd-kernels.c) where it loads; otherwise
// the matmuls run on XNNPACK from inside the kernels (wasm-c-functions.ts) and the rest in JS loops.
// The BatchNorm formulas are batchnorm-kernels.ts's (PyTorch's), the tanh is the Tanh kernel's. h and
// z are outputs so that the Linear and BatchNorm1d layers keep their `out` for the diagnostics;
// gradients flow through y only (a loss built on h or z would need the layers unfused: set
// retainGrad on them, see layers.ts).
// test/linear-batchnorm-kernels.test.ts compares all this with the layers' ops on the CPU backend;
// kernels.ts registers the kernels.
import * as tf from "@tensorflow/tfjs";
import { float32Tanh } from "./float32-tanh";
import { fastPaths } from "./fast-paths";
import { address, simdKernels } from "./simd-kernels";
import { hasKernel, type KernelArgs, type WasmBackend } from "./wasm-backend";
import { transposed, xnnMatMulInto } from "./wasm-c-functions";

export const LINEAR_BATCH_NORM_TRAIN = "LinearBatchNormTrain";
export const LINEAR_BATCH_NORM_LINK = "LinearBatchNormLink";
export const LINEAR_BATCH_NORM_TRAIN_GRAD = "LinearBatchNormTrainGrad";

interface BlockAttrs {
  eps: number;
  momentum: number;
  /** Apply tanh after the BatchNorm (the hidden blocks) or not (the last block, to the logits). */
  tanh: boolean;
}


export interface FusedBlockOutputs {
  /** The block's output: tanh(z), or z itself without tanh. */
  y: tf.Tensor;
  /** The Linear layer's output, x @ weight. */
  h: tf.Tensor;
  /** The BatchNorm1d layer's output. */
  z: tf.Tensor;
}

/**
 * Linear (no bias) -> BatchNorm1d in training mode (-> tanh) on x [B, in] as one kernel, with the
 * running statistics updated; `undefined` where the active backend has no such kernel or the shapes
 * do not fit, so the caller runs the layers one by one (which also report shape errors).
 */
export function fusedLinearBatchNormTraining(
  x: tf.Tensor,
  weight: tf.Variable,
  norm: { gamma: tf.Variable; beta: tf.Variable; runningMean: tf.Variable; runningVar: tf.Variable },
  attrs: BlockAttrs,
): FusedBlockOutputs | undefined {
  if (!fastPaths.fusedBlocks || tf.getBackend() !== "wasm" || !hasKernel(LINEAR_BATCH_NORM_TRAIN)) return undefined;
  const [inputs, outputs] = weight.shape;
  const fits = x.rank === 2 && x.dtype === "float32" && weight.dtype === "float32" && x.shape[1] === inputs && x.shape[0] >= 2 && norm.gamma.shape[0] === outputs;
  if (!fits) return undefined;
  const { gamma, beta, runningMean, runningVar } = norm;
  const kernelInputs = { x, weight, gamma, beta, runningMean, runningVar };
  const [blockOutput, h, z, newMean, newVar] = offTheTape(() => tf.engine().runKernel(LINEAR_BATCH_NORM_TRAIN, kernelInputs, { ...attrs }) as tf.Tensor[]);
  runningMean.assign(newMean);
  runningVar.assign(newVar);
  const y = tf.engine().runKernel(LINEAR_BATCH_NORM_LINK, { x, weight, gamma, beta, h, y: blockOutput }, { ...attrs }) as tf.Tensor;
  tf.dispose([newMean, newVar, blockOutput]);
  return { y, h, z };
}

/**
 * Runs `f` with autograd not recording: the engine records only kernels called at depth 0, and
 * counts a kernel running inside another as deeper (its `kernelDepth`), which is what this does.
 */
function offTheTape<T>(f: () => T): T {
  const state = tf.engine().state;
  state.kernelDepth++;
  try {
    return f();
  } finally {
    state.kernelDepth--;
  }
}

/** The recorded step: y itself, sharing its memory (as our Identity kernel), with the block's inputs and h as inputs for the gradient. */
export function linearBatchNormLink({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const y = inputs.y!;
  (backend as WasmBackend).incRef(y.dataId);
  return { dataId: y.dataId, shape: y.shape, dtype: y.dtype };
}

export function linearBatchNormTrain({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, weight, gamma, beta, runningMean, runningVar } = inputs as Record<string, tf.TensorInfo>;
  const { eps, momentum, tanh } = attrs as unknown as BlockAttrs;
  const rows = x.shape[0];
  const columns = weight.shape[1];
  const outputs = [[rows, columns], [rows, columns], [rows, columns], [columns], [columns]].map((shape) => wasm.makeOutput(shape, "float32"));
  const [yInfo, hInfo, zInfo, meanInfo, varInfo] = outputs;
  const simd = simdKernels(wasm);
  if (simd && columns >= 4) {
    const [xAt, weightAt, gammaAt, betaAt, meanAt, varAt] = [address(wasm, x), address(wasm, weight), address(wasm, gamma), address(wasm, beta), address(wasm, runningMean), address(wasm, runningVar)];
    const [yAt, hAt, zAt, newMeanAt, newVarAt] = [address(wasm, yInfo), address(wasm, hInfo), address(wasm, zInfo), address(wasm, meanInfo), address(wasm, varInfo)];
    simd.linear_batchnorm_forward(xAt, weightAt, gammaAt, betaAt, meanAt, varAt, hAt, zAt, yAt, newMeanAt, newVarAt, rows, x.shape[1], columns, eps, momentum, tanh ? 1 : 0);
    return outputs;
  }
  // h^T [out, B] (copied into h below) where that packs less, h itself otherwise (see linearTransposed).
  const hT = rows < columns ? linearTransposed(wasm, x, weight) : undefined;
  if (!hT) xnnMatMulInto(wasm, x, weight, hInfo);
  // The allocations are done: the views below stay valid.
  const hTs = hT && wasm.typedArrayFromHeap(hT);
  const [h, g, b, z, y, oldMean, oldVar, nextMean, nextVar] = [hInfo, gamma, beta, zInfo, yInfo, runningMean, runningVar, meanInfo, varInfo].map((info) => wasm.typedArrayFromHeap(info));
  const size = rows * columns;
  const unbiased = rows / (rows - 1);
  // Column by column, so that the sums stay in registers; a column (B numbers) stays in the cache.
  for (let j = 0; j < columns; j++) {
    let sum = 0;
    let sumOfSquares = 0;
    for (let i = 0, k = j; i < rows; i++, k += columns) {
      const value = hTs ? (h[k] = hTs[j * rows + i]) : h[k];
      sum += value;
      sumOfSquares += value * value;
    }
    // In float64, variance = E[h^2] - mean^2 is exact enough for float32 data (as batchnorm-kernels.ts).
    const mean = sum / rows;
    const variance = Math.max(0, sumOfSquares / rows - mean * mean);
    // z = gamma (h - mean) / sqrt(variance + eps) + beta = h scale + shift.
    const scale = g[j] / Math.sqrt(variance + eps);
    const shift = b[j] - mean * scale;
    for (let k = j; k < size; k += columns) {
      z[k] = h[k] * scale + shift;
      y[k] = tanh ? float32Tanh(z[k]) : z[k]; // z[k]: rounded to float32 first, as the Tanh layer sees it
    }
    nextMean[j] = (1 - momentum) * oldMean[j] + momentum * mean;
    nextVar[j] = (1 - momentum) * oldVar[j] + momentum * variance * unbiased;
  }
  if (hT) wasm.disposeData(hT.dataId);
  return outputs;
}

/**
 * h^T = (x @ weight)^T = weight^T @ x^T [out, B], a new tensor. XNNPACK repacks the right operand of
 * every matmul (a new tensor each time), at several times the cost of a transpose per number: x^T
 * [in, B] is a third of weight [in, out] for the hidden blocks (B 32, out 100). Worth it when B < out.
 */
function linearTransposed(wasm: WasmBackend, x: tf.TensorInfo, weight: tf.TensorInfo): tf.TensorInfo {
  const hT = wasm.makeOutput([weight.shape[1], x.shape[0]], "float32");
  const xT = transposed(wasm, x);
  const weightT = transposed(wasm, weight);
  xnnMatMulInto(wasm, weightT, xT, hT);
  wasm.disposeData(xT.dataId);
  wasm.disposeData(weightT.dataId);
  return hT;
}

/**
 * dz = dy * (1 - y^2) (or dy without tanh); BatchNorm's backward on h (batchnorm-kernels.ts):
 * dbeta = sum_i dz, dgamma = sum_i dz * hhat, dh = gamma * invStd / B * (B dz - dbeta - hhat dgamma);
 * then the Linear layer's: dweight = x^T @ dh, and dx = (weight @ dh^T)^T. XNNPACK repacks its right
 * operand at every call (a new tensor each time): dh^T [out, B] is a third of weight^T [out, in].
 */
export function linearBatchNormTrainGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, weight, gamma, h: hInfo, y: yInfo, dy: dyInfo } = inputs as Record<string, tf.TensorInfo>;
  const { eps, tanh } = attrs as unknown as BlockAttrs;
  const [rows, columns] = hInfo.shape;
  const inputColumns = x.shape[1];
  const simd = simdKernels(wasm);
  if (simd && columns >= 4) {
    const outputs = [wasm.makeOutput([rows, inputColumns], "float32"), wasm.makeOutput(weight.shape, "float32"), wasm.makeOutput([columns], "float32"), wasm.makeOutput([columns], "float32")];
    const [dhInfo, dhTInfo] = [wasm.makeOutput([rows, columns], "float32"), wasm.makeOutput([columns, rows], "float32")]; // scratch
    const [xAt, weightAt, gammaAt, hAt, yAt, dyAt] = [address(wasm, x), address(wasm, weight), address(wasm, gamma), address(wasm, hInfo), address(wasm, yInfo), address(wasm, dyInfo)];
    const [dxAt, dweightAt, dgammaAt, dbetaAt] = [address(wasm, outputs[0]), address(wasm, outputs[1]), address(wasm, outputs[2]), address(wasm, outputs[3])];
    simd.linear_batchnorm_backward(xAt, weightAt, gammaAt, hAt, yAt, dyAt, dxAt, dweightAt, dgammaAt, dbetaAt, address(wasm, dhInfo), address(wasm, dhTInfo), rows, inputColumns, columns, eps, tanh ? 1 : 0);
    wasm.disposeData(dhInfo.dataId);
    wasm.disposeData(dhTInfo.dataId);
    return outputs;
  }
  const [dweightInfo, dgammaInfo, dbetaInfo, dhInfo, dhTInfo, dxTInfo] = [weight.shape, [columns], [columns], [rows, columns], [columns, rows], [inputColumns, rows]].map((shape) =>
    wasm.makeOutput(shape, "float32"),
  );
  const xT = transposed(wasm, x); // [in, B]
  // Every allocation is done: the views below stay valid until the matmuls.
  const h = wasm.typedArrayFromHeap(hInfo);
  const y = wasm.typedArrayFromHeap(yInfo);
  const dy = wasm.typedArrayFromHeap(dyInfo);
  const [g, dh, dhT, dgamma, dbeta] = [gamma, dhInfo, dhTInfo, dgammaInfo, dbetaInfo].map((info) => wasm.typedArrayFromHeap(info));
  const size = rows * columns;
  // Column by column (as the forward kernel): the batch statistics of h and the sums of dz and dz h
  // in one pass, then dh = a dz + b h + c, the formula above with hhat = (h - mean) invStd.
  for (let j = 0; j < columns; j++) {
    let sum = 0;
    let sumOfSquares = 0;
    let sumDz = 0;
    let sumDzH = 0;
    for (let k = j; k < size; k += columns) {
      const dz = tanh ? dy[k] * (1 - y[k] * y[k]) : dy[k];
      sum += h[k];
      sumOfSquares += h[k] * h[k];
      sumDz += dz;
      sumDzH += dz * h[k];
    }
    const mean = sum / rows;
    const invStd = 1 / Math.sqrt(Math.max(0, sumOfSquares / rows - mean * mean) + eps);
    const dgammaJ = invStd * (sumDzH - mean * sumDz);
    const a = g[j] * invStd;
    const b = (-a * dgammaJ * invStd) / rows;
    const c = (-a * sumDz) / rows - b * mean;
    for (let i = 0, k = j; i < rows; i++, k += columns) {
      const dz = tanh ? dy[k] * (1 - y[k] * y[k]) : dy[k];
      dhT[j * rows + i] = dh[k] = a * dz + b * h[k] + c;
    }
    dgamma[j] = dgammaJ;
    dbeta[j] = sumDz;
  }
  xnnMatMulInto(wasm, xT, dhInfo, dweightInfo);
  xnnMatMulInto(wasm, weight, dhTInfo, dxTInfo);
  const dxInfo = transposed(wasm, dxTInfo); // [B, in]
  for (const temporary of [dhInfo, dhTInfo, dxTInfo, xT]) wasm.disposeData(temporary.dataId);
  return [dxInfo, dweightInfo, dgammaInfo, dbetaInfo];
}

// All four gradients come from one kernel call, made here and handed out by the thunks (as in
// batchnorm-kernels.ts): autograd disposes whichever it does not ask for when the backward pass ends.
// h and y come from off the tape: autograd never asks for their gradients.
export function linearBatchNormLinkGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x, weight, gamma, h, y] = saved;
  const [dx, dweight, dgamma, dbeta] = tf.engine().runKernel(LINEAR_BATCH_NORM_TRAIN_GRAD, { x, weight, gamma, h, y, dy: dy as tf.Tensor }, attrs) as tf.Tensor[];
  return { x: () => dx, weight: () => dweight, gamma: () => dgamma, beta: () => dbeta };
}
