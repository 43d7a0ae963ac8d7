// Fused versions of formulas the lecture code writes out in plain ops: one kernel where the active
// backend has one, `undefined` elsewhere so the caller runs its plain formula. A small model's step
// is bound by the number of kernels it launches (FACTS: a WASM kernel costs 4-12 us however small),
// so each fusion saves real time; each is tested against the plain formula on the CPU backend.
import * as tf from "@tensorflow/tfjs";
import { SOFTMAX_CROSS_ENTROPY } from "./wasm-fixes";

/** -mean(log softmax(rows)[i, labels[i]]) for rows [N, C] and int32 labels [N], as one kernel. */
export function fusedCrossEntropy(rows: tf.Tensor, labels: tf.Tensor): tf.Scalar | undefined {
  if (!tf.getKernel(SOFTMAX_CROSS_ENTROPY, tf.getBackend())) return undefined;
  return tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits: rows, targets: labels }) as tf.Scalar;
}

const SGD_UPDATE = "SgdUpdate";

/** parameter - learningRate * gradient as one kernel (two otherwise: a Mul and a Sub). */
export function fusedSgdUpdate(parameter: tf.Tensor, gradient: tf.Tensor, learningRate: number): tf.Tensor | undefined {
  if (tf.getBackend() !== "wasm" || parameter.dtype !== "float32" || gradient.dtype !== "float32") return undefined;
  if (!tf.util.arraysEqual(parameter.shape, gradient.shape)) return undefined;
  if (!tf.getKernel(SGD_UPDATE, "wasm")) tf.registerKernel({ kernelName: SGD_UPDATE, backendName: "wasm", kernelFunc: sgdUpdate as unknown as tf.KernelFunc });
  return tf.engine().runKernel(SGD_UPDATE, { parameter, gradient }, { learningRate }) as tf.Tensor;
}

// The WASM backend's memory, as its own kernels see it. Allocate the output first: an allocation can
// grow the memory, which detaches views taken before it.
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

function sgdUpdate({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const { parameter, gradient } = inputs as { parameter: tf.TensorInfo; gradient: tf.TensorInfo };
  const learningRate = attrs.learningRate as number;
  const output = wasm.makeOutput(parameter.shape, "float32");
  const p = wasm.typedArrayFromHeap(parameter);
  const g = wasm.typedArrayFromHeap(gradient);
  const updated = wasm.typedArrayFromHeap(output);
  for (let i = 0; i < updated.length; i++) updated[i] = p[i] - learningRate * g[i];
  return output;
}
