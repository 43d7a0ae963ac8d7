// BatchNorm in training mode as one WASM kernel forward and one backward (lecture 04's deep net).
//
// Written with ops (BatchNorm1d.forward in lib/layers.ts), a training-mode BatchNorm is ~12 small
// kernels forward (mean, subtract, square, mean, add eps, sqrt, divide, multiply, add, and the running
// updates) and ~20 backward; the deep net has six of them, and a small model's step is bound by how
// many kernels it launches (each costs a few microseconds however small its tensors). Here:
//   BatchNormTrain      x [B, D], gamma [D], beta [D], runningMean [D], runningVar [D]
//                       -> y [B, D], the new runningMean [D], the new runningVar [D]
//   BatchNormTrainGrad  x, gamma, dy [B, D] -> dx [B, D], dgamma [D], dbeta [D]
// The formulas are BatchNorm1d's (lib/layers.ts, PyTorch's), the one reference both kernels here and the
// fused block's (linear-batchnorm-kernels.ts) are tested against: normalise with the biased batch
// variance (divide by B; the variance as the mean of squared deviations from the mean), update the
// running variance with the unbiased one (divide by B - 1). The backward kernel
// recomputes the batch mean and variance from x (two cheap passes) instead of saving them.
// The engine's plan runs them for a BatchNorm1d that no fused block takes (layer-plan.ts: e.g. after a
// Linear with retainGrad, as lecture 04's diagnostics set, or with fusedBlocks off, or in the threaded
// build). test/layers.test.ts compares both kernels with the layer's ops on the CPU backend; kernels.ts
// registers them.
import * as tf from "@tensorflow/tfjs";
import { hasKernel, type KernelArgs, type WasmBackend } from "./wasm-backend";

export const BATCH_NORM_TRAIN = "BatchNormTrain";
export const BATCH_NORM_TRAIN_GRAD = "BatchNormTrainGrad";


/**
 * BatchNorm1d's training-mode forward (x [B, D] -> [B, D]) as one kernel, with the running statistics
 * updated; `undefined` where the active backend has no such kernel, so the caller runs its formula.
 */
export function fusedBatchNormTraining(
  x: tf.Tensor,
  gamma: tf.Variable,
  beta: tf.Variable,
  running: { mean: tf.Variable; variance: tf.Variable },
  options: { eps: number; momentum: number },
): tf.Tensor | undefined {
  if (!hasKernel(BATCH_NORM_TRAIN)) return undefined;
  const inputs = { x, gamma, beta, runningMean: running.mean, runningVar: running.variance };
  const [y, newMean, newVariance] = tf.engine().runKernel(BATCH_NORM_TRAIN, inputs, options) as tf.Tensor[];
  running.mean.assign(newMean);
  running.variance.assign(newVariance);
  return y;
}

/**
 * Per column j of x [rows, columns]: the mean, the biased variance and 1 / sqrt(variance + eps), as
 * BatchNorm1d's formula (the reference, lib/layers.ts) computes them: the mean, then the mean of the
 * squared deviations from it (two passes, as the ops and the C kernel; sums in float64).
 */
function columnStatistics(x: tf.backend_util.TypedArray, rows: number, columns: number, eps: number) {
  const mean = new Float64Array(columns);
  const variance = new Float64Array(columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0, k = i * columns; j < columns; j++, k++) mean[j] += x[k];
  }
  for (let j = 0; j < columns; j++) mean[j] /= rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0, k = i * columns; j < columns; j++, k++) variance[j] += (x[k] - mean[j]) ** 2;
  }
  const invStd = new Float64Array(columns);
  for (let j = 0; j < columns; j++) {
    variance[j] /= rows;
    invStd[j] = 1 / Math.sqrt(variance[j] + eps);
  }
  return { mean, variance, invStd };
}

export function batchNormTrain({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, gamma, beta, runningMean, runningVar } = inputs as Record<string, tf.TensorInfo>;
  const { eps, momentum } = attrs as { eps: number; momentum: number };
  const [rows, columns] = x.shape;
  // Outputs first: an allocation can grow the WebAssembly memory and detach earlier views.
  const output = wasm.makeOutput([rows, columns], "float32");
  const newMean = wasm.makeOutput([columns], "float32");
  const newVar = wasm.makeOutput([columns], "float32");
  const xs = wasm.typedArrayFromHeap(x);
  const { mean, variance, invStd } = columnStatistics(xs, rows, columns, eps);
  const g = wasm.typedArrayFromHeap(gamma);
  const b = wasm.typedArrayFromHeap(beta);
  const y = wasm.typedArrayFromHeap(output);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const k = i * columns + j;
      y[k] = g[j] * (xs[k] - mean[j]) * invStd[j] + b[j];
    }
  }
  const oldMean = wasm.typedArrayFromHeap(runningMean);
  const oldVar = wasm.typedArrayFromHeap(runningVar);
  const nextMean = wasm.typedArrayFromHeap(newMean);
  const nextVar = wasm.typedArrayFromHeap(newVar);
  const unbiased = rows > 1 ? rows / (rows - 1) : 1;
  for (let j = 0; j < columns; j++) {
    nextMean[j] = (1 - momentum) * oldMean[j] + momentum * mean[j];
    nextVar[j] = (1 - momentum) * oldVar[j] + momentum * variance[j] * unbiased;
  }
  return [output, newMean, newVar];
}

/**
 * dbeta = sum_i dy, dgamma = sum_i dy * xhat,
 * dx = gamma * invStd / B * (B * dy - dbeta - xhat * dgamma)   (the mean and variance depend on x too).
 */
export function batchNormTrainGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, gamma, dy } = inputs as Record<string, tf.TensorInfo>;
  const { eps } = attrs as { eps: number };
  const [rows, columns] = x.shape;
  const dxInfo = wasm.makeOutput([rows, columns], "float32");
  const dgammaInfo = wasm.makeOutput([columns], "float32");
  const dbetaInfo = wasm.makeOutput([columns], "float32");
  const xs = wasm.typedArrayFromHeap(x);
  const dys = wasm.typedArrayFromHeap(dy);
  const { mean, invStd } = columnStatistics(xs, rows, columns, eps);
  // dgamma = sum dy * (x - mean) * invStd = invStd * (sum dy * x - mean * sum dy): one pass for both sums.
  const dgamma = new Float64Array(columns);
  const dbeta = new Float64Array(columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0, k = i * columns; j < columns; j++, k++) {
      dbeta[j] += dys[k];
      dgamma[j] += dys[k] * xs[k];
    }
  }
  for (let j = 0; j < columns; j++) dgamma[j] = invStd[j] * (dgamma[j] - mean[j] * dbeta[j]);
  const g = wasm.typedArrayFromHeap(gamma);
  const dx = wasm.typedArrayFromHeap(dxInfo);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const k = i * columns + j;
      const xhat = (xs[k] - mean[j]) * invStd[j];
      dx[k] = ((g[j] * invStd[j]) / rows) * (rows * dys[k] - dbeta[j] - xhat * dgamma[j]);
    }
  }
  wasm.typedArrayFromHeap(dgammaInfo).set(dgamma);
  wasm.typedArrayFromHeap(dbetaInfo).set(dbeta);
  return [dxInfo, dgammaInfo, dbetaInfo];
}

// All three gradients come from one kernel call, made here and handed out by the thunks (as tfjs's
// own customGrad does): autograd disposes whichever it does not ask for when the backward pass ends.
export function batchNormTrainGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x, gamma] = saved;
  const outputGrad = Array.isArray(dy) ? dy[0] : dy; // the running statistics carry no gradient
  const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { x, gamma, dy: outputGrad }, attrs) as tf.Tensor[];
  return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
}
