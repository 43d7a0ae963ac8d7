// Lecture 04's block, Linear (no bias) -> BatchNorm1d (training) -> Tanh, as one WASM kernel forward
// (and lecture 07's with its BatchNorm bug, PositionwiseBatchNorm1d: the `positions` attribute)
// and one backward, so that autograd records one step per block instead of three.
//
// With one kernel per layer (batchnorm-kernels.ts and the matmul), a block still costs three tape
// entries, three kernel launches and five saved tensors forward, and six kernels backward (two
// explicit transposes among them); the deep net has six blocks, and its step is bound by such fixed
// costs, not by arithmetic. Here:
//   LinearBatchNormTrain      x [B, in], weight [in, out], gamma, beta, runningMean, runningVar [out]
//                             -> y [B, out] (tanh(z), or z without tanh), h = x @ weight, z = BatchNorm(h),
//                                the new runningMean, the new runningVar
//                             (x of any shape [..., in], or holding those numbers in another shape: the
//                             `shape` attribute; y, h and z are then [..., out], and dx has x's shape)
//   LinearBatchNormLink       x, weight, gamma, beta, h, y -> y (the same memory): the one step autograd records
//   LinearBatchNormTrainGrad  x, weight, gamma, h, y, dy -> dx, dweight, dgamma, dbeta
// The forward kernel runs off the tape (its outputs feed nothing autograd follows but the link), so
// the backward pass does not make zero gradients for its four other outputs, which it would for
// every output of a recorded step that the loss does not use: four tensors per block per step.
// Both kernels are one call of our WebAssembly SIMD code (simd-kernels.c); where it cannot run (the
// threaded build) or the block is narrower than 4, the layers run one by one. The BatchNorm formulas
// are the layers' (PyTorch's, the variance in two passes as BatchNorm1d's ops), the tanh is the Tanh
// kernel's (float32-tanh.ts) on float32 lanes. h and
// z are outputs so that the Linear and BatchNorm1d layers keep their `out` for the diagnostics;
// gradients flow through y only (a loss built on h or z would need the layers unfused: set
// retainGrad on them, see layer-plan.ts).
// test/linear-batchnorm-kernels.test.ts compares all this with the layers' ops on the CPU backend;
// kernels.ts registers the kernels.
import * as tf from "@tensorflow/tfjs";
import { fastPaths } from "./fast-paths";
import { address, simdKernels } from "./simd-kernels";
import { hasKernel, type KernelArgs, type WasmBackend } from "./wasm-backend";

export const LINEAR_BATCH_NORM_TRAIN = "LinearBatchNormTrain";
export const LINEAR_BATCH_NORM_LINK = "LinearBatchNormLink";
export const LINEAR_BATCH_NORM_TRAIN_GRAD = "LinearBatchNormTrainGrad";

interface BlockAttrs {
  eps: number;
  momentum: number;
  /** Apply tanh after the BatchNorm (the hidden blocks) or not (the last block, to the logits). */
  tanh: boolean;
  /**
   * 1: the statistics over every row (BatchNorm1d). P > 1: lecture 07's bug (PositionwiseBatchNorm1d),
   * x's rows are B examples of P positions and the statistics are per (position, channel), over the B
   * examples; the running statistics then hold P * out numbers, gamma and beta still out.
   */
  positions: number;
  /**
   * The shape the Linear layer sees, [..., in]: x's own, or (for a Flatten or FlattenConsecutive just
   * before the block, see layer-plan.ts) the shape x takes after it; the same numbers in the same order,
   * read as rows [N, in]. The outputs are [..., out].
   */
  shape: number[];
}


export interface FusedBlockOutputs {
  /** The block's output: tanh(z), or z itself without tanh. */
  y: tf.Tensor;
  /** The Linear layer's output, x @ weight. */
  h: tf.Tensor;
  /** The BatchNorm1d layer's output. */
  z: tf.Tensor;
}

/** Whether the fused block can run at all here: its fast path on, the active backend WASM with the kernel. */
export function fusedBlocksAvailable(): boolean {
  return fastPaths.fusedBlocks && tf.getBackend() === "wasm" && hasKernel(LINEAR_BATCH_NORM_TRAIN);
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
  if (!fusedBlocksAvailable()) return undefined;
  const [inputs, outputs] = weight.shape;
  const { positions, shape } = attrs;
  const examples = rowCount(shape) / positions;
  const statistics = positions === 1 || (Number.isInteger(examples) && outputs % 4 === 0); // see simd-kernels.c
  const asRows = shape.length >= 2 && shape.at(-1) === inputs && x.size === tf.util.sizeFromShape(shape);
  const fits = asRows && x.dtype === "float32" && weight.dtype === "float32" && examples >= 2 && statistics
    && norm.gamma.shape[0] === outputs && outputs >= 4 && norm.runningMean.size === positions * outputs;
  if (!fits || !simdKernels(tf.backend() as unknown as WasmBackend)) return undefined;
  const { gamma, beta, runningMean, runningVar } = norm;
  const kernelInputs = { x, weight, gamma, beta, runningMean, runningVar };
  const [blockOutput, h, z, newMean, newVar] = offTheTape(() => tf.engine().runKernel(LINEAR_BATCH_NORM_TRAIN, kernelInputs, { ...attrs }) as tf.Tensor[]);
  runningMean.assign(newMean);
  runningVar.assign(newVar);
  const y = tf.engine().runKernel(LINEAR_BATCH_NORM_LINK, { x, weight, gamma, beta, h, y: blockOutput }, { ...attrs }) as tf.Tensor;
  tf.dispose([newMean, newVar, blockOutput]);
  return { y, h, z };
}

/** How many rows [N, in] a block input of `shape` [..., in] has. */
function rowCount(shape: number[]): number {
  return tf.util.sizeFromShape(shape.slice(0, -1));
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
  const { eps, momentum, tanh, positions, shape } = attrs as unknown as BlockAttrs;
  const rows = rowCount(shape);
  const [inputColumns, columns] = weight.shape;
  const outShape = [...shape.slice(0, -1), columns];
  const outputs = [outShape, outShape, outShape, [positions * columns], [positions * columns]].map((s) => wasm.makeOutput(s, "float32"));
  const [yInfo, hInfo, zInfo, meanInfo, varInfo] = outputs;
  const simd = simdKernels(wasm)!; // checked by fusedLinearBatchNormTraining
  const [xAt, weightAt, gammaAt, betaAt, meanAt, varAt] = [address(wasm, x), address(wasm, weight), address(wasm, gamma), address(wasm, beta), address(wasm, runningMean), address(wasm, runningVar)];
  const [yAt, hAt, zAt, newMeanAt, newVarAt] = [address(wasm, yInfo), address(wasm, hInfo), address(wasm, zInfo), address(wasm, meanInfo), address(wasm, varInfo)];
  simd.linear_batchnorm_forward(xAt, weightAt, gammaAt, betaAt, meanAt, varAt, hAt, zAt, yAt, newMeanAt, newVarAt, rows, inputColumns, columns, positions, eps, momentum, tanh ? 1 : 0);
  return outputs;
}

/**
 * dz = dy * (1 - y^2) (or dy without tanh); BatchNorm's backward on h:
 * dbeta = sum_i dz, dgamma = sum_i dz * hhat, dh = gamma * invStd / B * (B dz - dbeta - hhat dgamma);
 * then the Linear layer's: dweight = x^T @ dh, and dx = (weight @ dh^T)^T (simd-kernels.c).
 */
export function linearBatchNormTrainGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, weight, gamma, h: hInfo, y: yInfo, dy: dyInfo } = inputs as Record<string, tf.TensorInfo>;
  const { eps, tanh, positions } = attrs as unknown as BlockAttrs;
  const [inputColumns, columns] = weight.shape;
  const rows = rowCount(hInfo.shape);
  const simd = simdKernels(wasm)!;
  const outputs = [wasm.makeOutput(x.shape, "float32"), wasm.makeOutput(weight.shape, "float32"), wasm.makeOutput([columns], "float32"), wasm.makeOutput([columns], "float32")];
  const [dhInfo, dhTInfo] = [wasm.makeOutput([rows, columns], "float32"), wasm.makeOutput([columns, rows], "float32")]; // scratch
  const [xAt, weightAt, gammaAt, hAt, yAt, dyAt] = [address(wasm, x), address(wasm, weight), address(wasm, gamma), address(wasm, hInfo), address(wasm, yInfo), address(wasm, dyInfo)];
  const [dxAt, dweightAt, dgammaAt, dbetaAt] = [address(wasm, outputs[0]), address(wasm, outputs[1]), address(wasm, outputs[2]), address(wasm, outputs[3])];
  simd.linear_batchnorm_backward(xAt, weightAt, gammaAt, hAt, yAt, dyAt, dxAt, dweightAt, dgammaAt, dbetaAt, address(wasm, dhInfo), address(wasm, dhTInfo), rows, inputColumns, columns, positions, eps, tanh ? 1 : 0);
  wasm.disposeData(dhInfo.dataId);
  wasm.disposeData(dhTInfo.dataId);
  return outputs;
}

// All four gradients come from one kernel call, made here and handed out by the thunks (as in
// batchnorm-kernels.ts): autograd disposes whichever it does not ask for when the backward pass ends.
// h and y come from off the tape: autograd never asks for their gradients.
export function linearBatchNormLinkGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x, weight, gamma, h, y] = saved;
  const [dx, dweight, dgamma, dbeta] = tf.engine().runKernel(LINEAR_BATCH_NORM_TRAIN_GRAD, { x, weight, gamma, h, y, dy: dy as tf.Tensor }, attrs) as tf.Tensor[];
  return { x: () => dx, weight: () => dweight, gamma: () => dgamma, beta: () => dbeta };
}
