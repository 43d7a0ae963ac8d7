// Batched and transposed matmuls on XNNPACK, the WASM backend's fast matmul kernel.
//
// The WASM backend's BatchMatMul hands a product to XNNPACK only when it is one 2-D matrix pair with
// neither side transposed; everything else (attention's [B, nHead, T, hs] x [B, nHead, hs, T], and any
// transposed operand) runs a scalar C loop at about 1 GFLOP/s. This kernel reduces every case to that
// fast one:
// - a transposed operand is transposed explicitly first (a cheap copy of one operand);
// - a batch against one shared matrix ([B, T, C] @ [C, N]) is one 2-D product of [B*T, C] @ [C, N];
// - a batch against a batch runs one 2-D XNNPACK product per slice, on views of the slices: each view is
//   registered with the WebAssembly side under its own tensor id (no copy), and dropped right after.
// Tiny products stay on the stock kernel, whose scalar loop beats the per-call cost of XNNPACK there.
import * as tf from "@tensorflow/tfjs";
import type { Kernel, KernelArgs, WasmBackend, WasmModule } from "./wasm-backend";

/** Below this many multiply-adds per slice the stock scalar loop is faster than a call into XNNPACK. */
const MIN_SLICE_WORK = 16 * 16 * 16;

/** The C function behind the stock kernel: (a id, a shape, rank, b id, b shape, rank, transposeA, transposeB, out id). */
type WasmBatchMatMul = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, transposeA: boolean, transposeB: boolean, outId: number) => void;

let wasmBatchMatMul: WasmBatchMatMul | undefined;
let boundTo: WasmModule | undefined;

/** The C function of the running module (bound again if the backend was started anew). */
function wasmFunction(backend: WasmBackend): WasmBatchMatMul {
  if (boundTo !== backend.wasm) {
    const types = ["number", "array", "number", "number", "array", "number", "number", "number", "number"];
    wasmBatchMatMul = backend.wasm.cwrap("BatchMatMul", null, types) as unknown as WasmBatchMatMul;
    boundTo = backend.wasm;
  }
  return wasmBatchMatMul!;
}

/** The kernel in place of the WASM backend's BatchMatMul (kernels.ts registers it); `stock` is the backend's own. */
export function batchedMatMul(args: KernelArgs, stock: Kernel): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  let a = args.inputs.a!;
  let b = args.inputs.b!;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  // Batches that broadcast in other ways ([2, 1, ...] against [1, 3, ...]), other dtypes and tiny
  // products: the stock kernel (which also checks the shapes and reports mismatches).
  const [m, k] = transposeA ? [a.shape.at(-1)!, a.shape.at(-2)!] : [a.shape.at(-2)!, a.shape.at(-1)!];
  const [kB, n] = transposeB ? [b.shape.at(-1)!, b.shape.at(-2)!] : [b.shape.at(-2)!, b.shape.at(-1)!];
  const simpleBatches = batchA === batchB ? tf.util.arraysEqual(outerA, outerB) || outerA.length === 0 || outerB.length === 0 : batchA === 1 || batchB === 1;
  if (a.dtype !== "float32" || b.dtype !== "float32" || k !== kB || !simpleBatches || m * k * n < MIN_SLICE_WORK) {
    return stock(args);
  }
  if (batchA <= 1 && batchB <= 1 && !transposeA && !transposeB) return stock(args); // already XNNPACK's case
  const outShape = [...tf.backend_util.assertAndGetBroadcastShape(outerA, outerB), m, n];
  const temporaries: tf.TensorInfo[] = [];
  if (transposeA) temporaries.push((a = swapLastTwoAxes(a, backend)));
  if (transposeB) temporaries.push((b = swapLastTwoAxes(b, backend)));
  let out: tf.TensorInfo;
  if (batchB === 1) {
    // [..., m, k] @ [k, n]: the rows of every slice of a against one b, one product.
    out = product(backend, a, [batchA * m, k], b, [k, n], [batchA * m, n]);
  } else {
    out = backend.makeOutput([Math.max(batchA, batchB), m, n], "float32");
    const batch = Math.max(batchA, batchB);
    for (let i = 0; i < batch; i++) {
      slicedProduct(backend, a, batchA === 1 ? 0 : i * m * k, [m, k], b, i * k * n, [k, n], out, i * m * n);
    }
  }
  for (const t of temporaries) backend.disposeData(t.dataId);
  return { ...out, shape: outShape };
}

/** x with its last two axes swapped, through the backend's Transpose kernel (a new tensor). */
function swapLastTwoAxes(x: tf.TensorInfo, backend: WasmBackend): tf.TensorInfo {
  const perm = x.shape.map((_, i) => i);
  perm.splice(-2, 2, perm.length - 1, perm.length - 2);
  const transpose = tf.getKernel("Transpose", "wasm")!.kernelFunc as unknown as Kernel;
  return transpose({ inputs: { x }, backend, attrs: { perm } });
}

/** One 2-D product of whole tensors, read as [rows, k] and [k, n]. */
function product(backend: WasmBackend, a: tf.TensorInfo, aShape: number[], b: tf.TensorInfo, bShape: number[], outShape: number[]): tf.TensorInfo {
  const out = backend.makeOutput(outShape, "float32");
  slicedProduct(backend, a, 0, aShape, b, 0, bShape, out, 0);
  return out;
}

/**
 * out[outStart...] = a[aStart...] @ b[bStart...] (offsets in floats), on views registered under fresh
 * tensor ids. XNNPACK caches the packed right-hand matrix under its tensor id; disposing the view's id
 * drops that cache entry too, so a later view at the same place never meets stale weights.
 */
function slicedProduct(backend: WasmBackend, a: tf.TensorInfo, aStart: number, aShape: number[], b: tf.TensorInfo, bStart: number, bShape: number[], out: tf.TensorInfo, outStart: number): void {
  const views = [
    [a, aStart, aShape],
    [b, bStart, bShape],
    [out, outStart, [aShape[0], bShape[1]]],
  ] as const;
  const ids = views.map(([tensor, start, shape]) => {
    const id = backend.dataIdNextNumber++;
    backend.wasm.tfjs.registerTensor(id, shape[0] * shape[1], backend.dataIdMap.get(tensor.dataId).memoryOffset + 4 * start);
    return id;
  });
  try {
    wasmFunction(backend)(ids[0], shapeBytes([1, ...aShape]), 3, ids[1], shapeBytes([1, ...bShape]), 3, false, false, ids[2]);
  } finally {
    for (const id of ids) backend.wasm.tfjs.disposeData(id);
  }
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}
