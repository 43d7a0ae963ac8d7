// A Linear layer with a bias in training, y = x @ W + b on x [B, in], as one kernel each way (the
// layer plan, layer-plan.ts, runs lecture 07's last layer, to the logits, through it):
//   LinearBias      x [B, in], weight [in, out], bias [out] -> y [B, out]
//   LinearBiasGrad  x, weight, dy -> dx = dy @ W^T, dweight = x^T @ dy, dbias = the sum of dy's rows
// The layer's own ops are a matmul and an Add forward, and a Sum and the matmul's two gradients
// backward: four kernels and two tape entries per step, where a small model's step is bound by such
// fixed costs. The numbers are theirs, bit for bit: the same calls of our SIMD code (simd-kernels.c)
// as the small matmul, its gradients (mlp-kernels.ts) and the bias gradient (sum-leading-axes.ts), and
// the bias added in float32 as the Add kernel does. Products larger than the small matmul's limit,
// and every backend but WASM with our module, keep the layer's ops.
// test/linear-kernels.test.ts compares both paths; kernels.ts registers the kernels.
import * as tf from "@tensorflow/tfjs";
import { SIMD_MATMUL_MAX_WORK } from "./mlp-kernels";
import { address, simdKernels } from "./simd-kernels";
import { hasKernel, type KernelArgs, type WasmBackend } from "./wasm-backend";

export const LINEAR_BIAS = "LinearBias";
export const LINEAR_BIAS_GRAD = "LinearBiasGrad";

/** x @ weight + bias as one kernel (x [B, in], float32), or undefined where it cannot run: the caller runs the layer's ops. */
export function fusedLinearBias(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor | undefined {
  if (x.rank !== 2 || weight.rank !== 2 || bias.rank !== 1 || [x, weight, bias].some((t) => t.dtype !== "float32")) return undefined;
  const [[rows, inputs], [weightRows, outputs]] = [x.shape, weight.shape];
  if (inputs !== weightRows || bias.shape[0] !== outputs || rows * inputs * outputs > SIMD_MATMUL_MAX_WORK) return undefined;
  if (tf.getBackend() !== "wasm" || !hasKernel(LINEAR_BIAS) || !simdKernels(tf.backend() as unknown as WasmBackend)) return undefined;
  return tf.engine().runKernel(LINEAR_BIAS, { x, weight, bias }) as tf.Tensor;
}

export function linearBias({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { x, weight, bias } = inputs as Record<"x" | "weight" | "bias", tf.TensorInfo>;
  const [[rows, k], [, n]] = [x.shape, weight.shape] as [number, number][];
  const y = wasm.makeOutput([rows, n], "float32");
  simdKernels(wasm)!.matmul(address(wasm, x), k, 1, address(wasm, weight), address(wasm, y), rows, k, n);
  const [out, b] = [wasm.typedArrayFromHeap(y), wasm.typedArrayFromHeap(bias)];
  for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) out[i * n + j] += b[j]; // a float32 sum, rounded once
  return y;
}

export function linearBiasGrad({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { x, weight, dy } = inputs as Record<"x" | "weight" | "dy", tf.TensorInfo>;
  const simd = simdKernels(wasm)!;
  const [[m, k], [, n]] = [x.shape, weight.shape] as [number, number][];
  const [dx, dweight, dbias, weightT] = [wasm.makeOutput([m, k], "float32"), wasm.makeOutput([k, n], "float32"), wasm.makeOutput([n], "float32"), wasm.makeOutput([n, k], "float32")];
  simd.transpose(address(wasm, weight), address(wasm, weightT), k, n);
  simd.matmul(address(wasm, dy), n, 1, address(wasm, weightT), address(wasm, dx), m, n, k); // dy [m, n] @ W^T [n, k]
  simd.matmul(address(wasm, x), 1, k, address(wasm, dy), address(wasm, dweight), k, m, n); // x^T [k, m] (read in place) @ dy [m, n]
  simd.sum_rows(address(wasm, dy), address(wasm, dbias), m, n);
  wasm.disposeData(weightT.dataId);
  return [dx, dweight, dbias];
}

// All three gradients from one kernel call, handed out by the thunks: autograd disposes any it does not ask for.
export function linearBiasGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) {
  const [x, weight] = saved;
  const [dx, dweight, dbias] = tf.engine().runKernel(LINEAR_BIAS_GRAD, { x, weight, dy: dy as tf.Tensor }) as tf.Tensor[];
  return { x: () => dx, weight: () => dweight, bias: () => dbias };
}
