// The SGD update p - lr * grad as one WASM kernel per parameter, in place of two (multiply, subtract)
// plus a scalar tensor for lr. A deep net's step updates many small parameters (lecture 04's has 19),
// so that is 38 kernel launches fewer per step. optim.ts's SGD uses it where the backend has it.
import * as tf from "@tensorflow/tfjs";

const SGD_UPDATE = "SgdUpdate";

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

export function registerSgdKernel(): void {
  tf.registerKernel({ kernelName: SGD_UPDATE, backendName: "wasm", kernelFunc: sgdUpdate as unknown as tf.KernelFunc });
}

/** parameter - learningRate * grad as one kernel; `undefined` where the backend has none (run the formula). */
export function fusedSgdUpdate(parameter: tf.Tensor, grad: tf.Tensor, learningRate: number): tf.Tensor | undefined {
  if (parameter.dtype !== "float32" || grad.dtype !== "float32" || !tf.util.arraysEqual(parameter.shape, grad.shape)) return undefined;
  if (!hasKernel(SGD_UPDATE)) return undefined;
  return tf.engine().runKernel(SGD_UPDATE, { parameter, grad }, { learningRate }) as tf.Tensor;
}

// tf.getKernel builds a key string per call; a step asks once per parameter, so remember the answer.
const kernelAvailable = new Map<string, boolean>();
export function hasKernel(kernelName: string): boolean {
  const key = `${tf.getBackend()}/${kernelName}`;
  let available = kernelAvailable.get(key);
  if (available === undefined) kernelAvailable.set(key, (available = tf.getKernel(kernelName, tf.getBackend()) !== undefined));
  return available;
}

function sgdUpdate({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const output = wasm.makeOutput(inputs.parameter!.shape, "float32"); // first: it may move the heap
  const p = wasm.typedArrayFromHeap(inputs.parameter!);
  const g = wasm.typedArrayFromHeap(inputs.grad!);
  const out = wasm.typedArrayFromHeap(output);
  // lr * grad rounded to float32 first, as the two-kernel version computes it: the same numbers.
  const lr = Math.fround(attrs.learningRate as number);
  for (let i = 0; i < out.length; i++) out[i] = p[i] - Math.fround(lr * g[i]);
  return output;
}
