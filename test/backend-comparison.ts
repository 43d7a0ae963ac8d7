// Helpers for tests that run the same computation on the CPU backend and on WASM (which has our
// kernels) and compare what comes out.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../lib/random";

/** Runs `f` on a backend and returns what it read back (tensors made inside are freed). */
export async function on<T extends tf.TensorContainer>(backend: "cpu" | "wasm", f: () => T): Promise<T> {
  assert.ok(await tf.setBackend(backend));
  try {
    return tf.tidy(f);
  } finally {
    await tf.setBackend("wasm");
  }
}

/** Runs `f` on both backends. */
export async function both<T extends tf.TensorContainer>(f: () => T): Promise<{ cpu: T; wasm: T }> {
  return { cpu: await on("cpu", f), wasm: await on("wasm", f) };
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    const ok = Object.is(a, e) || Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e));
    assert.ok(ok, `${what}[${i}]: wasm ${a}, cpu ${e} (tolerance ${tolerance})`);
  }
}

/** A tensor of seeded standard normal values times `scale`, the same on every backend. */
export function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const g = new Generator(seed);
  return tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => g.normal() * scale), shape);
}

/** [value, dA, dB] of matMul(a, b, transposeA, transposeB) (random inputs, random weights on the output), read back. */
export function matMulAndGradients(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean) {
  return () => {
    const a = randomTensor(aShape, 1);
    const b = randomTensor(bShape, 2);
    const y = tf.matMul(a, b, transposeA, transposeB);
    const w = randomTensor(y.shape, 3);
    const grads = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.matMul(x, z, transposeA, transposeB).mul(w).sum())([a, b]);
    return [y, ...grads].map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
  };
}

/** The shape a matmul operand of logical shape [..., rows, cols] is stored in: its last two axes swapped if transposed. */
export function stored(shape: number[], transposed: boolean): number[] {
  return transposed ? [...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!] : shape;
}
