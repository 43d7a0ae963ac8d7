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
