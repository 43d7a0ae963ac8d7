// What our kernels use of the WASM backend's internals (tfjs-backend-wasm 4.22 exports no types for
// them), and swapping one of its stock kernels for ours.
import * as tf from "@tensorflow/tfjs";

/** The Emscripten module: C functions by name, and the backend's own tensor registry on the C side. */
export interface WasmModule {
  cwrap(name: string, returnType: null, argumentTypes: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  /** The module's exports; `memory` is there in the single-threaded build (the threaded one imports it). */
  asm?: { memory?: WebAssembly.Memory };
  /** The threaded build's memory (shared), which its module imports. */
  wasmMemory?: WebAssembly.Memory;
}

// A kernel reads and writes tensors through typed-array views of the WebAssembly memory. An allocation
// (makeOutput) can grow that memory, which detaches every view taken before it: so each kernel
// allocates its output first and only then takes its views.
export interface WasmBackend {
  wasm: WasmModule;
  /** Each tensor's id on the C side and its place in the WebAssembly memory (a byte offset). */
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
  incRef(dataId: object): void;
  disposeData(dataId: object): boolean;
}

export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}
export type Kernel = (args: KernelArgs) => tf.TensorInfo;

/** Our kernel in place of the WASM backend's; `make` gets the stock one, for the cases it keeps. */
export function replaceKernel(kernelName: string, make: (stock: Kernel) => Kernel): void {
  const stock = tf.getKernel(kernelName, "wasm");
  if (!stock) throw new Error(`wasm-fixes: the WASM backend has no ${kernelName} kernel to replace.`);
  tf.unregisterKernel(kernelName, "wasm");
  const kernelFunc = make(stock.kernelFunc as unknown as Kernel) as unknown as tf.KernelFunc;
  // The stock setup (binding its WebAssembly function) still runs, for the calls handed back to it.
  tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc, setupFunc: stock.setupFunc });
}

const knownKernels = new Map<string, Set<string>>();

/**
 * Whether the active backend has `kernelName`: tf.getKernel, with each yes remembered, since it builds a
 * key string per call and a training step asks several times (a kernel, once registered, stays).
 */
export function hasKernel(kernelName: string): boolean {
  const backendName = tf.getBackend();
  let known = knownKernels.get(backendName);
  if (known?.has(kernelName)) return true;
  if (!tf.getKernel(kernelName, backendName)) return false;
  if (!known) knownKernels.set(backendName, (known = new Set()));
  known.add(kernelName);
  return true;
}
