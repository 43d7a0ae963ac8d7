// Batched and transposed matmuls against the stock CPU backend, on our SIMD kernel (mlp-kernels.ts:
// equal batches, as attention's) and with it off, on XNNPACK (batched-matmul.ts): attention's shapes,
// every transpose flag, broadcast batches; values and gradients.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine, setFastPaths } from "../lib/engine";
import { assertClose, matMulAndGradients, on, randomTensor, stored } from "./backend-comparison";

before(async () => {
  await initEngine("wasm"); // registers the kernel
});

// Logical shapes: A [..., M, K] @ B [..., K, N]; a transposed operand has its last two axes swapped.
const [M, K, N] = [20, 16, 24];
const cases: { name: string; a: number[]; b: number[] }[] = [
  { name: "attention, rank 4 batches", a: [2, 3, M, K], b: [2, 3, K, N] },
  { name: "rank 3 batches", a: [5, M, K], b: [5, K, N] },
  { name: "a batch against one matrix (folded into one product)", a: [2, 3, M, K], b: [K, N] },
  { name: "one matrix against a batch", a: [M, K], b: [4, K, N] },
  { name: "a batch of 1 broadcast against a batch", a: [1, M, K], b: [3, K, N] },
  { name: "2-D", a: [M, K], b: [K, N] },
  { name: "tiny (the stock kernel)", a: [2, 3, 4], b: [2, 4, 5] },
];

for (const c of cases) {
  for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]]) {
    const aShape = stored(c.a, transposeA);
    const bShape = stored(c.b, transposeB);
    test(`${c.name}: matMul(${aShape}, ${bShape}, ${transposeA}, ${transposeB}) and its gradients equal the CPU backend's`, async () => {
      const run = matMulAndGradients(aShape, bShape, transposeA, transposeB);
      const cpu = await on("cpu", run);
      for (const simd of [true, false]) {
        const before = setFastPaths({ simd });
        const wasm = await on("wasm", run).finally(() => setFastPaths(before));
        for (const [i, what] of ["value", "dA", "dB"].entries()) {
          assert.deepEqual(wasm[i].shape, cpu[i].shape, `${what} shape (simd ${simd})`);
          assertClose(wasm[i].data, cpu[i].data, 1e-5, `${what} (simd ${simd})`);
        }
      }
    });
  }
}

test("the batched kernel leaks no memory and leaves no tensor behind", async () => {
  await on("wasm", () => {
    const a = randomTensor([2, 3, M, K], 4);
    const b = randomTensor([2, 3, K, N], 5);
    tf.matMul(a, b).dispose(); // warm up
    const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes };
    for (let i = 0; i < 5; i++) tf.matMul(a, b).dispose();
    assert.deepEqual({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes }, before);
    return [];
  });
});

test("mismatched inner sizes are still the stock kernel's clear error", async () => {
  await on("wasm", () => {
    assert.throws(() => tf.matMul(tf.zeros([2, M, K]), tf.zeros([2, K + 1, N])), /inner shapes \(16\) and \(17\)/);
    return [];
  });
});
