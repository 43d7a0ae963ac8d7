// Lecture 03's training step on our WebAssembly SIMD code (simd-kernels.c), kernel by kernel: the
// small matmuls, tanh and its gradient, and the bias gradients (sums over the batch). Each replaces the
// body of a kernel the plain ops already call (BatchMatMul, Tanh, TanhGrad, Sum), so lib/mlp.ts runs
// them without knowing, and each gives the same bits as the code it replaces:
// - XNNPACK, which ran every matmul, sums k in order from 0 with a multiply then an add, as ours does;
//   but it creates an operator and packs the right operand at every call (each step brings new
//   weights), which costs more than the product itself at these sizes ([32, 30] x [30, 200]).
// - A transposed operand (the matmul's gradients) is read in place, or copied once in the kernel: the
//   gradient then needs no Transpose kernels of its own; and both gradients of a product come from
//   one kernel (MatMulGradients), one launch instead of two (a step is bound by launches as much as by
//   arithmetic: 19 -> 17 kernels here).
// - tanh, its gradient and the sums compute in float64 and round once, as the JS loops they replace.
// Where the module cannot run (the threaded build) these return undefined and the callers keep their
// other path. test/mlp-kernels.test.ts compares them with that path and with the CPU backend.
import * as tf from "@tensorflow/tfjs";
import { float32Tanh } from "./float32-tanh";
import { address, simdElementwise, simdKernels } from "./simd-kernels";
import { hasKernel, type KernelArgs, type WasmBackend } from "./wasm-backend";

/**
 * Up to this many multiply-adds a 2-D product runs on our kernel; larger ones (lecture 05's linear
 * layers, [768, 128] x [128, 512]) go to XNNPACK, whose packing pays for itself there.
 */
export const SIMD_MATMUL_MAX_WORK = 1 << 21;

/**
 * a @ b (either transposed) for float32 2-D products (or batches of one), and for batches of them with
 * the same outer shape (attention's [B, nHead, T, hs] x [B, nHead, hs, T]), of up to
 * SIMD_MATMUL_MAX_WORK multiply-adds per slice; else undefined. A batch is one call per slice on our
 * kernel: XNNPACK would create an operator and pack an operand per slice, the stock kernel runs a
 * scalar loop.
 */
export function simdMatMul({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo | undefined {
  const wasm = backend as WasmBackend;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
  const outShape = batchShape(a, b);
  if (a.dtype !== "float32" || b.dtype !== "float32" || !outShape) return undefined;
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [k2, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (k !== k2 || m * k * n > SIMD_MATMUL_MAX_WORK) return undefined; // the other path reports mismatches
  const simd = simdKernels(wasm);
  if (!simd) return undefined;
  const batch = tf.util.sizeFromShape(outShape);
  const out = wasm.makeOutput([...outShape, m, n], "float32");
  // b must be row-major [k, n]: a transposed b is copied so once (it is the smaller side in every gradient).
  const bT = transposeB ? wasm.makeOutput([batch, k, n], "float32") : undefined;
  // a is read in place: element (i, kk) sits at i * aRow + kk * aCol.
  const [aRow, aCol] = transposeA ? [1, aCols] : [aCols, 1];
  const [aAt, bAt, bTAt, outAt] = [address(wasm, a), address(wasm, b), bT && address(wasm, bT), address(wasm, out)];
  for (let i = 0; i < batch; i++) {
    const bSlice = bAt + 4 * i * k * n;
    if (bTAt !== undefined) simd.transpose(bSlice, bTAt + 4 * i * k * n, bRows, bCols);
    simd.matmul(aAt + 4 * i * m * k, aRow, aCol, bTAt !== undefined ? bTAt + 4 * i * k * n : bSlice, outAt + 4 * i * m * n, m, k, n);
  }
  if (bT) wasm.disposeData(bT.dataId);
  return out;
}

/** The outer shape of a @ b: [] or [1] for 2-D products (or batches of one), the common one of equal batches; else undefined. */
function batchShape(a: tf.TensorInfo, b: tf.TensorInfo): number[] | undefined {
  const [outerA, outerB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const rank = Math.max(a.shape.length, b.shape.length);
  if (tf.util.sizeFromShape(outerA) === 1 && tf.util.sizeFromShape(outerB) === 1) return rank === 2 ? [] : rank === 3 ? [1] : undefined;
  return tf.util.arraysEqual(outerA, outerB) ? outerA : undefined;
}

export const MATMUL_GRADIENTS = "MatMulGradients";

/**
 * Both gradients of c = a @ b (2-D, no transposes) as one kernel: da = dc @ b^T and db = a^T @ dc, for
 * products small enough for our matmul; undefined elsewhere (the gradient then runs two BatchMatMuls).
 * Both are computed even where autograd will ask for one only: bounded by the size limit, and in the
 * lectures both are always needed (activations and weights).
 */
export function simdMatMulGradients(a: tf.Tensor, b: tf.Tensor, dc: tf.Tensor): [tf.Tensor, tf.Tensor] | undefined {
  if (a.rank !== 2 || b.rank !== 2 || a.dtype !== "float32" || b.dtype !== "float32" || dc.dtype !== "float32") return undefined;
  const [[m, k], [, n]] = [a.shape, b.shape] as [number, number][];
  if (m * k * n > SIMD_MATMUL_MAX_WORK || !hasKernel(MATMUL_GRADIENTS) || !simdKernels(tf.backend() as unknown as WasmBackend)) return undefined;
  return tf.engine().runKernel(MATMUL_GRADIENTS, { a, b, dc }) as unknown as [tf.Tensor, tf.Tensor];
}

export function matMulGradients({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const wasm = backend as WasmBackend;
  const { a, b, dc } = inputs as Record<"a" | "b" | "dc", tf.TensorInfo>;
  const simd = simdKernels(wasm)!;
  const [[m, k], [, n]] = [a.shape, b.shape] as [number, number][];
  const [da, db, bT] = [wasm.makeOutput([m, k], "float32"), wasm.makeOutput([k, n], "float32"), wasm.makeOutput([n, k], "float32")];
  simd.transpose(address(wasm, b), address(wasm, bT), k, n);
  simd.matmul(address(wasm, dc), n, 1, address(wasm, bT), address(wasm, da), m, n, k); // dc [m, n] @ b^T [n, k]
  simd.matmul(address(wasm, a), 1, k, address(wasm, dc), address(wasm, db), k, m, n); // a^T [k, m] (read in place) @ dc [m, n]
  wasm.disposeData(bT.dataId);
  return [da, db];
}


/** y = tanh(x), float32: the formula of float32-tanh.ts, on SIMD lanes; undefined where the module cannot run. */
export function simdTanh(wasm: WasmBackend, x: tf.TensorInfo): tf.TensorInfo | undefined {
  const simd = simdKernels(wasm);
  if (!simd || x.dtype !== "float32") return undefined;
  const n = tf.util.sizeFromShape(x.shape);
  const output = wasm.makeOutput(x.shape, "float32");
  const leftAt = wasm.makeOutput([n], "int32"); // scratch
  const left = simd.tanh_forward(address(wasm, x), address(wasm, output), address(wasm, leftAt), n);
  if (left > 0) {
    // The numbers in (7.905, 9.02), where the formula needs exp: float32Tanh itself.
    const [xs, ys, at] = [wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(output), wasm.typedArrayFromHeap(leftAt)];
    for (let k = 0; k < left; k++) ys[at[k]] = float32Tanh(xs[at[k]]);
  }
  wasm.disposeData(leftAt.dataId);
  return output;
}

/** dx = dy (1 - y^2), float32; undefined where the module cannot run. */
export function simdTanhGrad(wasm: WasmBackend, y: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo | undefined {
  return simdElementwise(wasm, "tanh_backward", y, dy);
}

/** Into `output` [inner]: the sum of the rows of x read as [rows, inner]; false where the module cannot run. */
export function simdSumRows(wasm: WasmBackend, x: tf.TensorInfo, output: tf.TensorInfo, rows: number, inner: number): boolean {
  const simd = simdKernels(wasm);
  if (!simd) return false;
  simd.sum_rows(address(wasm, x), address(wasm, output), rows, inner);
  return true;
}
