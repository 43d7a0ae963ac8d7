// Large matmuls on two (or more) cores: our SIMD matmul (simd-kernels.c), each product split by rows of
// its output between the calling thread and helper threads that share the backend's memory.
//
// The GPT's step spends three quarters of its time in its linear layers' products ([768, 128] x
// [128, 512] and their gradients); XNNPACK's own thread pool gains little at these shapes and loses
// much on busy cores. Here every thread computes whole rows of c = a @ b, each output the same sum in
// the same order as on one thread, so the result has the same bits however the rows are shared out.
// The helpers (matmul-helpers.ts, Node only) exist only where the threaded build runs, whose memory is
// shared; everywhere else `threadedMatMul` returns undefined and BatchMatMul takes its other paths.
import * as tf from "@tensorflow/tfjs";
import { fastPaths } from "./fast-paths";
import { address, backendMemory, simdKernels, type SimdKernels } from "./simd-kernels";
import type { KernelArgs, WasmBackend } from "./wasm-backend";

/**
 * One product for the threads to share: `slices` products c = a @ b of [m, k] x [k, n]. Addresses are
 * byte offsets in the backend's memory; a is read with strides (aRow, aCol) in floats (a transposed
 * view if aRow is 1), b is given as its panels (simd-kernels.c's pack_panels); slice strides are in
 * floats (0: every slice uses the same matrix).
 */
export interface Product {
  a: number;
  aRow: number;
  aCol: number;
  aSlice: number;
  b: number;
  bSlice: number;
  c: number;
  cSlice: number;
  slices: number;
  m: number;
  k: number;
  n: number;
}

/** Threads that compute products with the calling thread (matmul-helpers.ts). */
export interface MatMulHelpers {
  /** The memory they work in: they serve only the backend that owns it. */
  memory: WebAssembly.Memory;
  /** Whether they still run (false once one stopped: the products then stay on one thread). */
  running(): boolean;
  /** How many blocks of rows each thread computed so far (0: the calling thread), for tests and the bench. */
  blocksByThread(): number[];
  /** Computes the product, this thread taking part; returns when every row is written. */
  run(product: Product, kernels: SimdKernels): void;
}

/** Below this many multiply-adds a product stays on one thread: waking a helper costs more than it saves. */
const MIN_WORK = 1 << 20;

let helpers: MatMulHelpers | undefined;

/** Sets the helper threads (engine.ts, after the threaded build starts), or none. */
export function useMatMulHelpers(next: MatMulHelpers | undefined): void {
  helpers = next;
}

/** The helpers in use, if any. */
export function matMulHelpers(): MatMulHelpers | undefined {
  return helpers;
}

/**
 * BatchMatMul (either side transposed) on the shared threads, for float32 products of at least MIN_WORK
 * multiply-adds: 2-D, a batch against one matrix, or batches of the same shape; else undefined.
 */
export function threadedMatMul({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo | undefined {
  if (!fastPaths.threadedMatMul || !helpers?.running()) return undefined;
  const wasm = backend as WasmBackend;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  if (a.dtype !== "float32" || b.dtype !== "float32" || backendMemory(wasm) !== helpers.memory) return undefined;
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [k2, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  const [outerA, outerB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const [batchA, batchB] = [tf.util.sizeFromShape(outerA), tf.util.sizeFromShape(outerB)];
  const sameBatches = batchA === batchB && (tf.util.arraysEqual(outerA, outerB) || batchA === 1);
  if (k !== k2 || !(sameBatches || batchA === 1 || batchB === 1)) return undefined; // the other paths report mismatches
  const slices = Math.max(batchA, batchB);
  if (slices * m * k * n < MIN_WORK) return undefined;
  const simd = simdKernels(wasm);
  if (!simd) return undefined;
  const outShape = [...tf.backend_util.assertAndGetBroadcastShape(outerA, outerB), m, n];
  const out = wasm.makeOutput(outShape, "float32");
  // b is copied into panels of 8 columns first (pack_panels: each tile then reads one contiguous
  // stream), transposed or not (it is a weight, the smaller side: a copy costs little beside the product).
  const panelSize = 8 * Math.ceil(n / 8) * k;
  const panels = wasm.makeOutput([batchB, panelSize], "float32");
  const [bRow, bCol] = transposeB ? [1, bCols] : [bCols, 1];
  for (let i = 0; i < batchB; i++) simd.pack_panels(address(wasm, b) + 4 * i * k * n, bRow, bCol, address(wasm, panels) + 4 * i * panelSize, k, n);
  // a batch against one b, a not transposed: its slices are the rows of one [batchA * m, k] matrix.
  const rowsOfOne = batchB === 1 && !transposeA;
  helpers.run(
    {
      a: address(wasm, a),
      aRow: transposeA ? 1 : aCols,
      aCol: transposeA ? aCols : 1,
      aSlice: batchA === 1 ? 0 : m * k,
      b: address(wasm, panels),
      bSlice: batchB === 1 ? 0 : panelSize,
      c: address(wasm, out),
      cSlice: m * n,
      slices: rowsOfOne ? 1 : slices,
      m: rowsOfOne ? slices * m : m,
      k,
      n,
    },
    simd,
  );
  wasm.disposeData(panels.dataId);
  return out;
}
