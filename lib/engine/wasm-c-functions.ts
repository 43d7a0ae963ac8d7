// The WASM backend's C functions called from inside our own kernels, without a trip through the
// engine: the SGD update's path where our SIMD module cannot run (fused-ops.ts). Going through tf ops
// would add a kernel launch, a tensor and a tape entry every time, and a JS loop is ~3x slower than
// the C one on elementwise work.
import * as tf from "@tensorflow/tfjs";
import type { WasmBackend } from "./wasm-backend";

type WasmBinary = (aId: number, aShape: Uint8Array, aRank: number, bId: number, bShape: Uint8Array, bRank: number, dtype: number, outId: number) => void;

interface CFunctions {
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
      multiply: wasm.wasm.cwrap(tf.Multiply, null, BINARY_ARGUMENTS) as unknown as WasmBinary,
      sub: wasm.wasm.cwrap(tf.Sub, null, BINARY_ARGUMENTS) as unknown as WasmBinary,
    };
    wrapped.set(wasm.wasm, functions);
  }
  return functions;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);
const FLOAT32 = 0; // the backend's C dtype code

/** The backend's own id of a tensor, which its C functions take. */
function id(wasm: WasmBackend, info: tf.TensorInfo): number {
  return wasm.dataIdMap.get(info.dataId).id;
}

/** out = a * b or a - b elementwise (b may be one number, broadcast), float32, `out` already allocated. */
export function elementwiseInto(wasm: WasmBackend, operation: "multiply" | "sub", a: tf.TensorInfo, b: tf.TensorInfo, out: tf.TensorInfo): void {
  cFunctions(wasm)[operation](id(wasm, a), shapeBytes(a.shape), a.shape.length, id(wasm, b), shapeBytes(b.shape), b.shape.length, FLOAT32, id(wasm, out));
}
