// Fused versions of formulas the lecture code writes out in plain ops: one kernel where the active
// backend has one, `undefined` elsewhere so the caller runs its plain formula. A small model's step
// is bound by the number of kernels it launches (each has a fixed cost, however small its tensors;
// `npm run bench` prints the kernels per step), so each fusion saves real time; each is tested against
// the plain formula on the CPU backend. kernels.ts registers the kernels.
import * as tf from "@tensorflow/tfjs";
import { hasKernel, type KernelArgs, type WasmBackend } from "./wasm-backend";
import { address, simdKernels } from "./simd-kernels";
import { elementwiseInto } from "./wasm-c-functions";
import { SOFTMAX_CROSS_ENTROPY } from "./wasm-fixes";
import { fastPaths } from "./fast-paths";
import { ADAMW_UPDATES, LAYER_NORM, MASKED_SOFTMAX, SCALE_ALL, SUM_OF_SQUARES, type AdamWUpdateAttrs } from "./gpt-kernels";

/** -mean(log softmax(rows)[i, labels[i]]) for rows [N, C] and int32 labels [N], as one kernel. */
export function fusedCrossEntropy(rows: tf.Tensor, labels: tf.Tensor): tf.Scalar | undefined {
  if (!hasKernel(SOFTMAX_CROSS_ENTROPY)) return undefined;
  return tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits: rows, targets: labels }) as tf.Scalar;
}

export const SGD_UPDATE = "SgdUpdate";

/** parameter - learningRate * gradient as one kernel (two otherwise: a Mul and a Sub). */
export function fusedSgdUpdate(parameter: tf.Tensor, gradient: tf.Tensor, learningRate: number): tf.Tensor | undefined {
  return fusedSgdUpdates([parameter], [gradient], learningRate)?.[0];
}

/**
 * parameters[i] - learningRate * gradients[i] for every i as one kernel (two per parameter
 * otherwise), run by our SIMD loop (simd-kernels.ts) or else the backend's C multiply and subtract;
 * `undefined` where that does not apply.
 */
export function fusedSgdUpdates(parameters: tf.Tensor[], gradients: tf.Tensor[], learningRate: number): tf.Tensor[] | undefined {
  if (!hasKernel(SGD_UPDATE) || parameters.length !== gradients.length) return undefined;
  // Input 2i is parameter i, 2i + 1 its gradient: integer keys are cheaper than names built per call.
  const inputs: tf.NamedTensorMap = {};
  for (let i = 0; i < parameters.length; i++) {
    const [p, g] = [parameters[i], gradients[i]];
    if (p.dtype !== "float32" || g.dtype !== "float32" || !tf.util.arraysEqual(p.shape, g.shape)) return undefined;
    inputs[2 * i] = p;
    inputs[2 * i + 1] = g;
  }
  return tf.engine().runKernel(SGD_UPDATE, inputs, { learningRate, count: parameters.length }) as tf.Tensor[];
}

export function sgdUpdate({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { learningRate, count } = attrs as { learningRate: number; count: number };
  const simd = simdKernels(wasm);
  const updated: tf.TensorInfo[] = [];
  if (simd) {
    // One call of our SIMD loop per parameter (simd-kernels.c), in the backend's memory.
    for (let i = 0; i < count; i++) {
      const [parameter, gradient] = [inputs[2 * i]!, inputs[2 * i + 1]!];
      const output = wasm.makeOutput(parameter.shape, "float32");
      simd.sgd_update(address(wasm, parameter), address(wasm, gradient), address(wasm, output), tf.util.sizeFromShape(parameter.shape), learningRate);
      updated.push(output);
    }
    return updated;
  }
  const rate = wasm.makeOutput([1], "float32");
  wasm.typedArrayFromHeap(rate)[0] = learningRate;
  for (let i = 0; i < count; i++) {
    const [parameter, gradient] = [inputs[2 * i]!, inputs[2 * i + 1]!];
    const step = wasm.makeOutput(gradient.shape, "float32");
    elementwiseInto(wasm, "multiply", gradient, rate, step);
    const output = wasm.makeOutput(parameter.shape, "float32");
    elementwiseInto(wasm, "sub", parameter, step, output);
    wasm.disposeData(step.dataId);
    updated.push(output);
  }
  wasm.disposeData(rate.dataId);
  return updated;
}

/** Whether lecture 05's fused kernels (gpt-kernels.ts) run: the switch is on and the backend has `kernelName`. */
function gptKernel(kernelName: string): boolean {
  return fastPaths.gptKernels && hasKernel(kernelName);
}

/**
 * LayerNorm over the last axis, (x - mean) / sqrt(variance + eps) * gamma + beta with the biased
 * variance, as one kernel forward and one backward (about 35 otherwise); undefined elsewhere.
 */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor | undefined {
  const cols = x.shape[x.rank - 1];
  if (!gptKernel(LAYER_NORM) || [x, gamma, beta].some((t) => t.dtype !== "float32") || gamma.size !== cols || beta.size !== cols || gamma.rank !== 1 || beta.rank !== 1) {
    return undefined;
  }
  return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as tf.Tensor;
}

/**
 * softmax(scores * scale + mask) over the last axis, for scores [..., T', T] and a mask [T', T], as one
 * kernel each way (five otherwise, and four for the gradient), where our SIMD code runs (its exp); else undefined.
 */
export function fusedMaskedSoftmax(scores: tf.Tensor, scale: number, mask: tf.Tensor): tf.Tensor | undefined {
  const [rows, T] = scores.shape.slice(-2);
  if (!gptKernel(MASKED_SOFTMAX) || scores.dtype !== "float32" || mask.dtype !== "float32" || scores.rank < 2) return undefined;
  if (mask.rank !== 2 || mask.shape[0] !== rows || mask.shape[1] !== T || !simdKernels(tf.backend() as unknown as WasmBackend)) return undefined;
  return tf.engine().runKernel(MASKED_SOFTMAX, { scores, mask }, { scale }) as tf.Tensor;
}

/** The sum of every squared number of every tensor (clipping's norm squared) as one kernel, a scalar; undefined elsewhere. */
export function fusedSumOfSquares(tensors: tf.Tensor[]): tf.Scalar | undefined {
  if (!gptKernel(SUM_OF_SQUARES) || tensors.some((t) => t.dtype !== "float32")) return undefined;
  return tf.engine().runKernel(SUM_OF_SQUARES, byIndex(tensors)) as tf.Scalar;
}

/** A kernel's inputs keyed 0, 1, 2, ... */
function byIndex(tensors: tf.Tensor[]): tf.NamedTensorMap {
  const inputs: tf.NamedTensorMap = {};
  tensors.forEach((t, i) => (inputs[i] = t));
  return inputs;
}

/** Every tensor times `scale` as one kernel (one per tensor otherwise); undefined elsewhere. */
export function fusedScale(tensors: tf.Tensor[], scale: number): tf.Tensor[] | undefined {
  if (!gptKernel(SCALE_ALL) || tensors.some((t) => t.dtype !== "float32")) return undefined;
  return tf.engine().runKernel(SCALE_ALL, byIndex(tensors), { scale }) as unknown as tf.Tensor[];
}

/**
 * AdamW's update of every parameter as one kernel (13 per parameter otherwise): returns [p', m', v']
 * for each, in order. `decays[i]` is 1 - lr * weightDecay for a decayed parameter, 1 otherwise.
 *   m' = beta1 m + (1 - beta1) g;  v' = beta2 v + (1 - beta2) g^2;  p' = decay p - stepSize m' / (sqrt(v') + epsilon)
 * A GPT has dozens of parameters, so this takes hundreds of kernels out of every training step.
 */
export function fusedAdamWUpdates(
  parameters: tf.Tensor[],
  gradients: tf.Tensor[],
  ms: tf.Tensor[],
  vs: tf.Tensor[],
  decays: number[],
  attrs: AdamWUpdateAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor][] | undefined {
  if (!gptKernel(ADAMW_UPDATES)) return undefined;
  const inputs: tf.NamedTensorMap = {};
  for (let i = 0; i < parameters.length; i++) {
    const group = [parameters[i], gradients[i], ms[i], vs[i]];
    if (group.some((t) => t === undefined || t.dtype !== "float32" || !tf.util.arraysEqual(t.shape, parameters[i].shape))) return undefined;
    group.forEach((t, j) => (inputs[4 * i + j] = t));
  }
  const outputs = tf.engine().runKernel(ADAMW_UPDATES, inputs, { ...attrs, decays }) as unknown as tf.Tensor[];
  return parameters.map((_, i) => [outputs[3 * i], outputs[3 * i + 1], outputs[3 * i + 2]]);
}
