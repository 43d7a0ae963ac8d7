// Our own WebAssembly SIMD kernels (simd-kernels.c, compiled by build-simd-kernels.sh beside it into
// simd-kernels-wasm.ts), run on the WASM backend's memory itself: the module imports that memory, so a
// kernel reads its inputs and writes its outputs where the backend keeps them, by byte offset.
//
// Lecture 04's deep net is bound by fixed costs per call: XNNPACK creates an operator and repacks an
// operand at every matmul (each step brings new tensors), and our JS loops paid for every number.
// These kernels do a whole Linear -> BatchNorm1d -> Tanh block each way, and the SGD update, in one call;
// and lecture 03's small matmuls, tanh and bias gradients (mlp-kernels.ts) with the same bits as before.
// They run on the single-threaded build; the threaded build's memory is shared, which this module does
// not import: there, `simdKernels` returns undefined and the callers keep their other path.
import type { WasmBackend } from "./wasm-backend";
import { SIMD_KERNELS_WASM } from "./simd-kernels-wasm";
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
  const memory = wasm.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || (typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer)) return null;
  try {
    const module = new WebAssembly.Module(Uint8Array.from(atob(SIMD_KERNELS_WASM), (c) => c.charCodeAt(0))) /* atob: Node and browsers alike */;
    return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
  } catch {
    return null; // e.g. a WebAssembly without SIMD
  }
}

/** Where a tensor's data starts in the backend's memory (a byte offset), which the kernels take. */
export function address(wasm: WasmBackend, info: { dataId: object }): number {
  return wasm.dataIdMap.get(info.dataId).memoryOffset;
}
