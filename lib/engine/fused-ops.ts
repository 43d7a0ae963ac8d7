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

export const ADAMW_UPDATE = "AdamWUpdate";

export interface AdamWUpdateAttrs {
  beta1: number;
  beta2: number;
  /** lr * sqrt(1 - beta2^t) / (1 - beta1^t): the bias corrections folded into the step. */
  stepSize: number;
  /** eps * sqrt(1 - beta2^t), the same folding. */
  epsilon: number;
  /** 1 - lr * weightDecay for a decayed parameter, 1 otherwise. */
  decay: number;
}

/**
 * One AdamW update of one parameter as one kernel (13 otherwise): returns the new [parameter, m, v].
 *   m' = beta1 m + (1 - beta1) g;  v' = beta2 v + (1 - beta2) g^2;  p' = decay p - stepSize m' / (sqrt(v') + epsilon)
 * A GPT has dozens of parameters, so this takes hundreds of kernels out of every training step.
 */
export function fusedAdamWUpdate(
  parameter: tf.Tensor,
  gradient: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  attrs: AdamWUpdateAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] | undefined {
  if (!hasKernel(ADAMW_UPDATE)) return undefined;
  const inputs = [parameter, gradient, m, v];
  if (inputs.some((t) => t.dtype !== "float32" || !tf.util.arraysEqual(t.shape, parameter.shape))) return undefined;
  return tf.engine().runKernel(ADAMW_UPDATE, { parameter, gradient, m, v }, { ...attrs }) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

export function adamWUpdate({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { parameter, gradient, m, v } = inputs as Record<"parameter" | "gradient" | "m" | "v", tf.TensorInfo>;
  const { beta1, beta2, stepSize, epsilon, decay } = attrs! as unknown as AdamWUpdateAttrs;
  const outputs = [wasm.makeOutput(parameter.shape, "float32"), wasm.makeOutput(parameter.shape, "float32"), wasm.makeOutput(parameter.shape, "float32")];
  const [newP, newM, newV] = outputs.map((info) => wasm.typedArrayFromHeap(info));
  const p = wasm.typedArrayFromHeap(parameter);
  const g = wasm.typedArrayFromHeap(gradient);
  const mOld = wasm.typedArrayFromHeap(m);
  const vOld = wasm.typedArrayFromHeap(v);
  for (let i = 0; i < p.length; i++) {
    const mi = beta1 * mOld[i] + (1 - beta1) * g[i];
    const vi = beta2 * vOld[i] + (1 - beta2) * g[i] * g[i];
    newM[i] = mi;
    newV[i] = vi;
    newP[i] = decay * p[i] - (stepSize * mi) / (Math.sqrt(vi) + epsilon);
  }
  return outputs;
}
