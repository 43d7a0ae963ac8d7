// The WASM backend's C functions (SIMD, and XNNPACK for matmuls) called from inside our own kernels,
// without a trip through the engine.
//
// A fused kernel (linear-batchnorm-kernels.ts, the SGD update in fused-ops.ts) runs several such
// operations per call; going through tf ops for each would add a kernel launch, a tensor and a tape
// entry every time, and a JS loop is ~3x slower than the C one on elementwise work.
// The C function `BatchMatMul` sends [1, M, K] x [1, K, N] with no transpose flags to XNNPACK's
// fully connected operator, which it caches under the id of b and frees when b is disposed: so b must
// be a tensor whose data never changes in place (a fresh output, or a variable's current value).
import * as tf from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-backend";

type WasmBatchMatMul = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, transposeA: boolean, transposeB: boolean, outId: number) => void;
type WasmBinary = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, dtype: number, outId: number) => void;
type WasmTranspose = (xId: number, xShape: Uint8Array, xRank: number, dtype: number, outId: number, perm: Uint8Array, permLength: number) => void;

interface CFunctions {
  batchMatMul: WasmBatchMatMul;
  transpose: WasmTranspose;
  multiply: WasmBinary;
  sub: WasmBinary;
}

const BINARY_ARGUMENTS = ["number", "array", "number", "number", "array", "number", "number", "number"];
const wrapped = new WeakMap<object, CFunctions>();

/** The backend's C functions, wrapped once per WebAssembly module (argument types as the backend's own kernels give them). */
function cFunctions(wasm: WasmBackend): CFunctions {
  let functions = wrapped.get(wasm.wasm);
  if (!functions) {
    functions = {
      batchMatMul: wasm.wasm.cwrap(tf.BatchMatMul, null, ["number", "array", "number", "number", "array", "number", "number", "number", "number"]) as unknown as WasmBatchMatMul,
      transpose: wasm.wasm.cwrap(tf.Transpose, null, ["number", "array", "number", "number", "number", "array", "number"]) as unknown as WasmTranspose,
      multiply: wasm.wasm.cwrap(tf.Multiply, null, BINARY_ARGUMENTS) as unknown as WasmBinary,
      sub: wasm.wasm.cwrap(tf.Sub, null, BINARY_ARGUMENTS) as unknown as WasmBinary,
    };
    wrapped.set(wasm.wasm, functions);
  }
  return functions;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/** The backend's own id of a tensor, which its C functions take. */
function id(wasm: WasmBackend, info: tf.TensorInfo): number {
  return wasm.dataIdMap.get(info.dataId).id;
}

/** out [M, N] = a [M, K] @ b [K, N], all float32 tensors of the WASM backend, `out` already allocated. */
export function xnnMatMulInto(wasm: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo): void {
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2 || out.shape[0] !== m || out.shape[1] !== n) throw new Error(`xnnMatMulInto: shapes [${a.shape}] x [${b.shape}] -> [${out.shape}] do not fit.`);
  cFunctions(wasm).batchMatMul(id(wasm, a), shapeBytes([1, m, k]), 3, id(wasm, b), shapeBytes([1, k, n]), 3, false, false, id(wasm, out));
}

const FLOAT32 = 0; // the backend's C dtype code
const SWAP_AXES = shapeBytes([1, 0]);

/** A new [columns, rows] float32 tensor of the WASM backend holding x [rows, columns] transposed (by its C kernel, ~3x a JS loop). */
export function transposed(wasm: WasmBackend, x: tf.TensorInfo): tf.TensorInfo {
  const [rows, columns] = x.shape;
  const output = wasm.makeOutput([columns, rows], "float32");
  cFunctions(wasm).transpose(id(wasm, x), shapeBytes([rows, columns]), 2, FLOAT32, id(wasm, output), SWAP_AXES, 2);
  return output;
}

/** out = a * b or a - b elementwise (b may be one number, broadcast), float32, `out` already allocated. */
export function elementwiseInto(wasm: WasmBackend, operation: "multiply" | "sub", a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo): void {
  cFunctions(wasm)[operation](id(wasm, a), shapeBytes(a.shape), a.shape.length, id(wasm, b), shapeBytes(b.shape), b.shape.length, FLOAT32, id(wasm, out));
}
