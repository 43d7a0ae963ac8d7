// Our own WebAssembly SIMD kernels (simd-kernels.c, compiled by build-simd-kernels.sh beside it into
// simd-kernels-wasm.ts), run on the WASM backend's memory itself: the module imports that memory, so a
// kernel reads its inputs and writes its outputs where the backend keeps them, by byte offset.
//
// Lecture 04's deep net is bound by fixed costs per call: XNNPACK creates an operator and repacks an
// operand at every matmul (each step brings new tensors), and our JS loops paid for every number.
// These kernels do a whole Linear -> BatchNorm1d -> Tanh block each way, and the SGD update, in one call;
// and lecture 03's small matmuls, tanh and bias gradients (mlp-kernels.ts) with the same bits as before.
// They run on both builds of the backend: the threaded build's memory is shared (a SharedArrayBuffer),
// and a module must declare a shared memory to import it, so that build gets the same code compiled
// for a shared memory (build-simd-kernels.sh makes both). Where neither can run (a WebAssembly without
// SIMD), `simdKernels` returns undefined and the callers keep their other path.
import * as tf from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-backend";
import { SIMD_KERNELS_SHARED_WASM, SIMD_KERNELS_WASM } from "./simd-kernels-wasm";
import { fastPaths } from "./fast-paths";

export interface SimdKernels {
  linear_batchnorm_forward(
    x: number, weight: number, gamma: number, beta: number, runningMean: number, runningVar: number,
    h: number, z: number, y: number, newMean: number, newVar: number,
    rows: number, inputs: number, cols: number, positions: number, eps: number, momentum: number, tanh: number,
  ): void;
  linear_batchnorm_backward(
    x: number, weight: number, gamma: number, h: number, y: number, dy: number,
    dx: number, dweight: number, dgamma: number, dbeta: number, dh: number, dhT: number,
    rows: number, inputs: number, cols: number, positions: number, eps: number, tanh: number,
  ): void;
  sgd_update(parameter: number, gradient: number, out: number, n: number, learningRate: number): void;
  matmul(a: number, aRow: number, aCol: number, b: number, c: number, m: number, k: number, n: number): void;
  transpose(x: number, out: number, rows: number, cols: number): void;
  /** Returns how many numbers (7.905 < |x| < 9.02) it left for the caller, their indices in `leftAt` (int32, room for n). */
  tanh_forward(x: number, y: number, leftAt: number, n: number): number;
  tanh_backward(y: number, dy: number, dx: number, n: number): void;
  sum_rows(x: number, out: number, rows: number, inner: number): void;
  /** panels [ceil(n / 8), k, 8] = b [k, n] read with strides (bRow, bCol), in panels of 8 columns (the last padded with zeros), for `matmul_rows`. */
  pack_panels(b: number, bRow: number, bCol: number, panels: number, k: number, n: number): void;
  /** Rows [rowStart, rowEnd) of c = a @ b, b given as its `pack_panels` (threaded-matmul.ts splits a product by rows). */
  matmul_rows(a: number, aRow: number, aCol: number, panels: number, c: number, rowStart: number, rowEnd: number, k: number, n: number): void;
  // Lecture 05's GPT step (gpt-kernels.ts); LayerNorm's rows must be a multiple of 4 long.
  relu_backward(x: number, dy: number, dx: number, n: number): void;
  layernorm_forward(x: number, gamma: number, beta: number, y: number, rows: number, cols: number, eps: number): void;
  layernorm_backward(x: number, gamma: number, dy: number, dx: number, dgamma: number, dbeta: number, rows: number, cols: number, eps: number): void;
  sum_of_squares(g: number, n: number): number;
  scale(x: number, out: number, n: number, s: number): void;
  adamw_update(
    p: number, g: number, m: number, v: number, newP: number, newM: number, newV: number, n: number,
    beta1: number, beta2: number, stepSize: number, epsilon: number, decay: number,
  ): void;
  masked_softmax_forward(scores: number, mask: number, y: number, rows: number, T: number, maskRows: number, scale: number): void;
  masked_softmax_backward(y: number, dy: number, dscores: number, rows: number, T: number, scale: number): void;
  /** grad may be 0 (none); see cross-entropy-rows.ts. */
  cross_entropy_rows(logits: number, targets: number, grad: number, rowMax: number, rowSum: number, rows: number, classes: number, scale: number): void;
}

/** Every function the TypeScript side calls: the module must export exactly these (test/simd-kernels.test.ts). */
const CALLED: Record<keyof SimdKernels, true> = {
  linear_batchnorm_forward: true,
  linear_batchnorm_backward: true,
  sgd_update: true,
  matmul: true,
  transpose: true,
  tanh_forward: true,
  tanh_backward: true,
  sum_rows: true,
  pack_panels: true,
  matmul_rows: true,
  relu_backward: true,
  layernorm_forward: true,
  layernorm_backward: true,
  sum_of_squares: true,
  scale: true,
  adamw_update: true,
  masked_softmax_forward: true,
  masked_softmax_backward: true,
  cross_entropy_rows: true,
};
export const SIMD_KERNEL_NAMES = Object.keys(CALLED) as (keyof SimdKernels)[];

const instances = new WeakMap<object, SimdKernels | null>();

/** The kernels bound to this backend's memory, or undefined where they cannot run (see above). */
export function simdKernels(wasm: WasmBackend): SimdKernels | undefined {
  if (!fastPaths.simd) return undefined;
  let kernels = instances.get(wasm.wasm);
  if (kernels === undefined) {
    kernels = instantiate(wasm);
    instances.set(wasm.wasm, kernels);
  }
  return kernels ?? undefined;
}

function instantiate(wasm: WasmBackend): SimdKernels | null {
  const memory = backendMemory(wasm);
  if (!memory) return null;
  try {
    return new WebAssembly.Instance(simdModule(isShared(memory)), { env: { memory } }).exports as unknown as SimdKernels;
  } catch {
    return null; // e.g. a WebAssembly without SIMD
  }
}

/** The backend's WebAssembly memory: exported by the single-threaded build, imported by the threaded one. */
export function backendMemory(wasm: WasmBackend): WebAssembly.Memory | undefined {
  const memory = wasm.wasm.asm?.memory ?? wasm.wasm.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
}

const modules: { single?: WebAssembly.Module; shared?: WebAssembly.Module } = {};

/** The compiled module (once per build): for an ordinary memory, or for a shared one. */
export function simdModule(shared: boolean): WebAssembly.Module {
  const build = shared ? "shared" : "single";
  const base64 = shared ? SIMD_KERNELS_SHARED_WASM : SIMD_KERNELS_WASM;
  return (modules[build] ??= new WebAssembly.Module(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)))) /* atob: Node and browsers alike */;
}

/** Where a tensor's data starts in the backend's memory (a byte offset), which the kernels take. */
export function address(wasm: WasmBackend, info: { dataId: object }): number {
  return wasm.dataIdMap.get(info.dataId).memoryOffset;
}

/** out = kernel(a, b) elementwise, float32 of a's shape (a gradient from y or x, and dy); undefined where the module cannot run. */
export function simdElementwise(wasm: WasmBackend, kernel: "tanh_backward" | "relu_backward", a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | undefined {
  const simd = simdKernels(wasm);
  if (!simd || a.dtype !== "float32" || b.dtype !== "float32") return undefined;
  const output = wasm.makeOutput(a.shape, "float32");
  simd[kernel](address(wasm, a), address(wasm, b), address(wasm, output), tf.util.sizeFromShape(a.shape));
  return output;
}
