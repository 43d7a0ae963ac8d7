// Lecture 05's GPT step apart from its matmuls, as few kernels: LayerNorm one kernel each way (about
// 35 small kernels otherwise: moments, a Cast, the normalisation and their gradients), attention's
// softmax(scores * scale + mask) one each way, the clipping norm's sum of squares over all gradients
// and their scaling in one kernel each (two per gradient otherwise), and AdamW over all parameters in
// one (one per parameter before). Each runs on our SIMD code (simd-kernels.c) where the module loads
// (both WASM builds) and on a JS loop otherwise (e.g. a LayerNorm whose width is not a multiple of 4);
// lib/gpt.ts and lib/optim.ts call them through fused-ops.ts with their plain formula beside.
// test/gpt-kernels.test.ts compares each with the plain formula on the CPU backend.
import * as tf from "@tensorflow/tfjs";
import { address, simdKernels } from "./simd-kernels";
import type { KernelArgs, WasmBackend } from "./wasm-backend";

export const LAYER_NORM = "LayerNormRows";
export const LAYER_NORM_GRAD = "LayerNormRowsGrad";
export const SUM_OF_SQUARES = "SumOfSquaresAll";
export const SCALE_ALL = "ScaleAll";
export const ADAMW_UPDATES = "AdamWUpdates";
export const MASKED_SOFTMAX = "MaskedSoftmax";
export const MASKED_SOFTMAX_GRAD = "MaskedSoftmaxGrad";

/** A LayerNorm's shape: rows of `cols` numbers (the last axis), gamma and beta [cols]. */
function rowsAndCols(x: tf.TensorInfo): [number, number] {
  const cols = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / cols, cols];
}

/** y = (x - mean) / sqrt(variance + eps) * gamma + beta over the last axis, per row. */
export function layerNorm({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { x, gamma, beta } = inputs as Record<"x" | "gamma" | "beta", tf.TensorInfo>;
  const eps = attrs!.eps as number;
  const [rows, cols] = rowsAndCols(x);
  const y = wasm.makeOutput(x.shape, "float32");
  const simd = cols % 4 === 0 ? simdKernels(wasm) : undefined;
  if (simd) {
    simd.layernorm_forward(address(wasm, x), address(wasm, gamma), address(wasm, beta), address(wasm, y), rows, cols, eps);
    return y;
  }
  const [xs, g, b, ys] = [x, gamma, beta, y].map((info) => wasm.typedArrayFromHeap(info));
  for (let i = 0; i < rows; i++) {
    const { mean, std } = rowStatistics(xs, i * cols, cols, eps);
    for (let j = 0; j < cols; j++) ys[i * cols + j] = Math.fround(Math.fround(Math.fround(xs[i * cols + j] - mean) / std) * g[j]) + b[j];
  }
  return y;
}

/** A row's mean and sqrt(biased variance + eps), float32. */
function rowStatistics(xs: tf.backend_util.TypedArray, start: number, cols: number, eps: number): { mean: number; std: number } {
  let sum = 0;
  for (let j = start; j < start + cols; j++) sum += xs[j];
  const mean = Math.fround(sum / cols);
  let squares = 0;
  for (let j = start; j < start + cols; j++) squares += (xs[j] - mean) ** 2;
  return { mean, std: Math.fround(Math.sqrt(Math.fround(squares / cols) + eps)) };
}

/**
 * From dy, with xhat = (x - mean) / std and g = dy gamma, per row:
 *   dx = (g - mean_j(g) - xhat mean_j(g xhat)) / std;   over the rows: dgamma = sum dy xhat, dbeta = sum dy.
 */
export function layerNormGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, gamma, dy } = inputs as Record<"x" | "gamma" | "dy", tf.TensorInfo>;
  const eps = attrs!.eps as number;
  const [rows, cols] = rowsAndCols(x);
  const outputs = [wasm.makeOutput(x.shape, "float32"), wasm.makeOutput([cols], "float32"), wasm.makeOutput([cols], "float32")];
  const simd = cols % 4 === 0 ? simdKernels(wasm) : undefined;
  if (simd) {
    const [dx, dgamma, dbeta] = outputs.map((info) => address(wasm, info));
    simd.layernorm_backward(address(wasm, x), address(wasm, gamma), address(wasm, dy), dx, dgamma, dbeta, rows, cols, eps);
    return outputs;
  }
  const [xs, g, dys, dx, dgamma, dbeta] = [x, gamma, dy, ...outputs].map((info) => wasm.typedArrayFromHeap(info));
  const [sumGamma, sumBeta] = [new Float64Array(cols), new Float64Array(cols)];
  for (let i = 0; i < rows; i++) {
    const row = i * cols;
    const { mean, std } = rowStatistics(xs, row, cols, eps);
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xhat = (xs[row + j] - mean) / std;
      const d = dys[row + j];
      sumG += d * g[j];
      sumGX += d * g[j] * xhat;
      sumGamma[j] += d * xhat;
      sumBeta[j] += d;
    }
    const [meanG, meanGX] = [sumG / cols, sumGX / cols];
    for (let j = 0; j < cols; j++) dx[row + j] = (dys[row + j] * g[j] - meanG - ((xs[row + j] - mean) / std) * meanGX) / std;
  }
  dgamma.set(sumGamma);
  dbeta.set(sumBeta);
  return outputs;
}

export function layerNormGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x, gamma] = saved;
  // One kernel gives all three (run here, not in the thunks: autograd runs each thunk in a tidy of its own).
  const [dx, dgamma, dbeta] = tf.engine().runKernel(LAYER_NORM_GRAD, { x, gamma, dy: dy as tf.Tensor }, attrs) as unknown as tf.Tensor[];
  return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
}

/**
 * The sum of the squares of every number of every input, one scalar, with the plain formula's float32
 * roundings (tf.addN of each g.square().sum(): every square, every partial sum and total rounded).
 */
export function sumOfSquares({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const output = wasm.makeOutput([], "float32");
  const simd = simdKernels(wasm);
  let total = 0;
  for (const info of Object.values(inputs)) {
    let sum = 0;
    if (simd) sum = simd.sum_of_squares(address(wasm, info!), tf.util.sizeFromShape(info!.shape));
    else for (const g of wasm.typedArrayFromHeap(info!)) sum = Math.fround(sum + Math.fround(g * g));
    total = Math.fround(total + sum);
  }
  wasm.typedArrayFromHeap(output)[0] = total;
  return output;
}

/** Every input times `scale` (float32, as tf.mul), one output each. */
export function scaleAll({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const scale = Math.fround(attrs!.scale as number);
  const simd = simdKernels(wasm);
  return Object.values(inputs).map((info) => {
    const output = wasm.makeOutput(info!.shape, "float32");
    const n = tf.util.sizeFromShape(info!.shape);
    if (simd) simd.scale(address(wasm, info!), address(wasm, output), n, scale);
    else {
      const [xs, ys] = [wasm.typedArrayFromHeap(info!), wasm.typedArrayFromHeap(output)];
      for (let i = 0; i < n; i++) ys[i] = xs[i] * scale;
    }
    return output;
  });
}

export interface AdamWUpdateAttrs {
  beta1: number;
  beta2: number;
  /** lr * sqrt(1 - beta2^t) / (1 - beta1^t): the bias corrections folded into the step. */
  stepSize: number;
  /** eps * sqrt(1 - beta2^t), the same folding. */
  epsilon: number;
}

/**
 * AdamW's update of every parameter: inputs 4i..4i+3 are parameter i, its gradient, m and v; outputs
 * 3i..3i+2 its new value, m and v; `decays[i]` is 1 - lr * weightDecay for a decayed parameter, else 1.
 *   m' = beta1 m + (1 - beta1) g;  v' = beta2 v + (1 - beta2) g^2;  p' = decay p - stepSize m' / (sqrt(v') + epsilon)
 * in float64, rounded once per output (SIMD or JS: the same bits).
 */
export function adamWUpdates({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { beta1, beta2, stepSize, epsilon } = attrs! as unknown as AdamWUpdateAttrs;
  const decays = attrs!.decays as number[];
  const simd = simdKernels(wasm);
  const outputs: tf.TensorInfo[] = [];
  for (let k = 0; k < decays.length; k++) {
    const [parameter, gradient, m, v] = [0, 1, 2, 3].map((j) => inputs[4 * k + j]!);
    const updated = [0, 1, 2].map(() => wasm.makeOutput(parameter.shape, "float32"));
    outputs.push(...updated);
    const n = tf.util.sizeFromShape(parameter.shape);
    if (simd) {
      const [newP, newM, newV] = updated.map((info) => address(wasm, info));
      simd.adamw_update(address(wasm, parameter), address(wasm, gradient), address(wasm, m), address(wasm, v), newP, newM, newV, n, beta1, beta2, stepSize, epsilon, decays[k]);
      continue;
    }
    const [p, g, mOld, vOld, newP, newM, newV] = [parameter, gradient, m, v, ...updated].map((info) => wasm.typedArrayFromHeap(info));
    for (let i = 0; i < n; i++) {
      const mi = beta1 * mOld[i] + (1 - beta1) * g[i];
      const vi = beta2 * vOld[i] + (1 - beta2) * g[i] * g[i];
      newM[i] = mi;
      newV[i] = vi;
      newP[i] = decays[k] * p[i] - (stepSize * mi) / (Math.sqrt(vi) + epsilon);
    }
  }
  return outputs;
}

/**
 * Attention's weights, softmax(scores * scale + mask) over the last axis, for scores [..., T', T] and
 * a mask [T', T] that repeats over the leading axes (the batch and the heads).
 */
export function maskedSoftmax({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { scores, mask } = inputs as Record<"scores" | "mask", tf.TensorInfo>;
  const scale = attrs!.scale as number;
  const [rows, T] = rowsAndCols(scores);
  const maskRows = mask.shape[0];
  const y = wasm.makeOutput(scores.shape, "float32");
  const simd = simdKernels(wasm);
  if (simd) {
    simd.masked_softmax_forward(address(wasm, scores), address(wasm, mask), address(wasm, y), rows, T, maskRows, scale);
    return y;
  }
  const [s, m, out] = [scores, mask, y].map((info) => wasm.typedArrayFromHeap(info));
  const fscale = Math.fround(scale);
  for (let i = 0; i < rows; i++) {
    const [row, maskRow] = [i * T, (i % maskRows) * T];
    let max = -Infinity;
    for (let j = 0; j < T; j++) max = Math.max(max, (out[row + j] = Math.fround(s[row + j] * fscale) + m[maskRow + j]));
    let sum = 0;
    for (let j = 0; j < T; j++) sum += out[row + j] = Math.exp(out[row + j] - max);
    for (let j = 0; j < T; j++) out[row + j] /= sum;
  }
  return y;
}

/** d scores = (dy y - y sum_j(dy y)) * scale per row, from the weights y: softmax's gradient, then the scale's. */
export function maskedSoftmaxGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { y, dy } = inputs as Record<"y" | "dy", tf.TensorInfo>;
  const scale = attrs!.scale as number;
  const [rows, T] = rowsAndCols(y);
  const dscores = wasm.makeOutput(y.shape, "float32");
  const simd = simdKernels(wasm);
  if (simd) {
    simd.masked_softmax_backward(address(wasm, y), address(wasm, dy), address(wasm, dscores), rows, T, scale);
    return dscores;
  }
  const [ys, dys, out] = [y, dy, dscores].map((info) => wasm.typedArrayFromHeap(info));
  for (let row = 0; row < rows * T; row += T) {
    let dot = 0;
    for (let j = row; j < row + T; j++) dot += dys[j] * ys[j];
    for (let j = row; j < row + T; j++) out[j] = (dys[j] * ys[j] - dot * ys[j]) * scale;
  }
  return dscores;
}

export function maskedSoftmaxGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [mask, y] = saved; // inputs to save, then outputs
  return {
    scores: () => tf.engine().runKernel(MASKED_SOFTMAX_GRAD, { y, dy: dy as tf.Tensor }, attrs) as tf.Tensor,
    mask: () => tf.zerosLike(mask), // a constant: autograd never asks for it
  };
}
