// The WASM backend's speed fixes (lib/engine/wasm-fixes.ts) against the stock CPU backend: the same
// inputs on both, the same values and gradients out.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { crossEntropy } from "../lib/losses";
import { MLPLanguageModel } from "../lib/mlp";
import { Generator } from "../lib/random";
import { assertClose, both, on, randomTensor } from "./backend-comparison";

before(async () => {
  await initEngine("wasm"); // registers the fixes
});

const random = randomTensor;

test("the fixes are registered on WASM only", () => {
  assert.equal(tf.getBackend(), "wasm");
  for (const kernel of ["SoftmaxCrossEntropy", "SoftmaxCrossEntropyGrad", "TanhGrad", "UnsortedSegmentSum"]) {
    assert.ok(tf.getKernel(kernel, "wasm"), kernel);
  }
  assert.equal(tf.getKernel("SoftmaxCrossEntropy", "cpu"), undefined, "the CPU backend stays stock");
});

test("Identity shares memory: a clone outlives its original and carries gradients", async () => {
  const { cpu, wasm } = await both(() => {
    const x = random([4, 3], 1);
    const copy = x.clone();
    x.dispose();
    const grad = tf.grad((t: tf.Tensor) => t.clone().mul(t).sum())(copy);
    return [Array.from(copy.dataSync()), Array.from(grad.dataSync())];
  });
  assertClose(wasm[0], cpu[0], 0, "clone");
  assertClose(wasm[1], cpu[1], 1e-6, "gradient through a clone");
});

test("GatherV2: lookups along axis 0 and 1 and their gradients match the CPU backend", async () => {
  // Repeated indices: their gradients must add up.
  const indices = (largest: number) => tf.tensor2d([[0, 3, 3], [largest, 1, 0]], [2, 3], "int32");
  for (const axis of [0, 1]) {
    const { cpu, wasm } = await both(() => {
      const x = random([7, 5], 2);
      const idx = indices(axis === 0 ? 6 : 4);
      const w = random(axis === 0 ? [2, 3, 5] : [7, 2, 3], 3);
      const looked = tf.gather(x, idx, axis);
      const grad = tf.grad((t: tf.Tensor) => tf.gather(t, idx, axis).mul(w).sum())(x);
      return [looked.shape, Array.from(looked.dataSync()), Array.from(grad.dataSync())];
    });
    assert.deepEqual(wasm[0], cpu[0], `axis ${axis}: shape`);
    assertClose(wasm[1] as number[], cpu[1] as number[], 0, `axis ${axis}: values`);
    assertClose(wasm[2] as number[], cpu[2] as number[], 1e-6, `axis ${axis}: gradient`);
  }
  const ints = await both(() => Array.from(tf.gather(tf.tensor1d([10, 20, 30], "int32"), tf.tensor1d([2, 0, 2], "int32")).dataSync()));
  assert.deepEqual(ints.wasm, ints.cpu);
  await on("wasm", () => {
    assert.throws(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([3], "int32")), /index value 3 is not in \[0, 2\]/);
    return [];
  });
});

test("Tanh: values within 3e-7 of the CPU backend's, saturating to exactly +-1, and its gradient", async () => {
  const points = [
    ...Array.from({ length: 801 }, (_, i) => -20 + i * 0.05),
    0, 1e-8, -1e-8, 1e-3, 7.9, 7.9053, 7.906, 8.7, 9, 10, 50, -50, Infinity, -Infinity, NaN,
  ];
  const { cpu, wasm } = await both(() => {
    const x = tf.tensor1d(points);
    const w = random([points.length], 4);
    const grad = tf.grad((t: tf.Tensor) => tf.tanh(t).mul(w).sum())(x);
    return [Array.from(tf.tanh(x).dataSync()), Array.from(grad.dataSync())];
  });
  assertClose(wasm[0], cpu[0], 3e-7, "tanh");
  const at = (x: number) => wasm[0][points.indexOf(x)];
  assert.deepEqual([at(10), at(50), at(-50), at(Infinity), at(-Infinity)], [1, 1, -1, 1, -1]);
  assert.ok(Number.isNaN(wasm[0][points.length - 1]), "tanh(NaN) is NaN");
  // NaN's gradient is NaN on both; the rest agree to float32 rounding of 1 - tanh^2.
  assertClose(wasm[1], cpu[1], 1e-6, "gradient");
  assert.equal(wasm[1][points.indexOf(10)], 0, "a saturated neuron passes no gradient");
});

test("crossEntropy: the fused kernel's loss and gradient match the CPU backend's ops", async () => {
  const cases: { name: string; logits: () => tf.Tensor; targets: () => tf.Tensor }[] = [
    { name: "[6, 5]", logits: () => random([6, 5], 5, 3), targets: () => tf.tensor1d([0, 4, 2, 2, 1, 3], "int32") },
    // exp(1000) overflows float32: both must subtract the row maximum first.
    { name: "large logits", logits: () => tf.tensor2d([[1000, 1001, 999], [-1000, 0, 1000]]), targets: () => tf.tensor1d([1, 0], "int32") },
    { name: "[2, 3, 5] with float targets", logits: () => random([2, 3, 5], 6), targets: () => tf.tensor2d([[0, 1, 4], [3, 3, 2]]) },
  ];
  for (const { name, logits, targets } of cases) {
    const { cpu, wasm } = await both(() => {
      const x = logits();
      const y = targets();
      const [loss, grad] = [crossEntropy(x, y), tf.grad((t: tf.Tensor) => crossEntropy(t, y))(x)];
      return [[loss.dataSync()[0]], Array.from(grad.dataSync())];
    });
    assert.ok(Number.isFinite(wasm[0][0]), `${name}: finite loss`);
    assertClose(wasm[0], cpu[0], 1e-5, `${name}: loss`);
    assertClose(wasm[1], cpu[1], 1e-6, `${name}: gradient`);
  }
  await on("wasm", () => {
    assert.throws(() => crossEntropy(tf.zeros([2, 3]), tf.tensor1d([0, 3], "int32")), /target 3 is not a class index in \[0, 2\]/);
    assert.throws(() => crossEntropy(tf.zeros([2, 3]), tf.tensor1d([0], "int32")), /2 rows of logits but 1 targets/);
    return [];
  });
});

test("BatchMatMul's gradient (transposes read in place) matches the CPU backend for every transpose flag", async () => {
  for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]]) {
    const { cpu, wasm } = await both(() => {
      const a = random(transposeA ? [4, 3] : [3, 4], 7);
      const b = random(transposeB ? [5, 4] : [4, 5], 8);
      const w = random([3, 5], 9);
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, transposeA, transposeB).mul(w).sum();
      return tf.grads(f)([a, b]).map((g) => Array.from(g.dataSync()));
    });
    assertClose(wasm[0], cpu[0], 1e-5, `dA (${transposeA}, ${transposeB})`);
    assertClose(wasm[1], cpu[1], 1e-5, `dB (${transposeA}, ${transposeB})`);
  }
});

test("the whole MLP: loss and every parameter's gradient match the CPU backend", async () => {
  const { cpu, wasm } = await both(() => {
    const model = new MLPLanguageModel({ vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 200 }, new Generator(2147483647));
    const g = new Generator(12);
    const X = tf.tensor2d(Array.from({ length: 96 }, () => g.integer(27)), [32, 3], "int32");
    const Y = tf.tensor1d(Array.from({ length: 32 }, () => g.integer(27)), "int32");
    const { value, grads } = tf.valueAndGrads(() => model.forward(X, Y).loss!)(model.parameters());
    const result = [[value.dataSync()[0]], ...grads.map((grad) => Array.from(grad.dataSync()))];
    model.dispose();
    return result;
  });
  assertClose(wasm[0], cpu[0], 1e-5, "loss");
  for (const [i, name] of ["C", "W1", "b1", "W2", "b2"].entries()) assertClose(wasm[i + 1], cpu[i + 1], 1e-4, `d${name}`);
});

test("the JS kernels stay right when an allocation grows the WebAssembly memory (views go stale)", async () => {
  await on("wasm", () => {
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const start = heap();
    // Logits as large as the whole heap: the output of each kernel has to grow it again.
    const classes = 27;
    const rows = Math.ceil(start / 4 / classes);
    const g = new Generator(13);
    const logitValues = Float32Array.from({ length: rows * classes }, () => g.normal() * 3);
    const targetValues = Int32Array.from({ length: rows }, () => g.integer(classes));
    const logits = tf.tensor2d(logitValues, [rows, classes]);
    const targets = tf.tensor1d(targetValues, "int32");
    const grad = tf.grad((t: tf.Tensor) => crossEntropy(t, targets))(logits).dataSync();
    assert.ok(heap() > start, "the heap grew");
    for (const i of [0, 1, rows >> 1, rows - 1]) {
      const row = Array.from(logitValues.subarray(i * classes, (i + 1) * classes));
      const max = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
      const expected = row.map((v, j) => (Math.exp(v - max) / sum - (j === targetValues[i] ? 1 : 0)) / rows);
      assertClose(grad.subarray(i * classes, (i + 1) * classes), expected, 1e-6, `row ${i}`);
    }
    // A lookup whose output outgrows the heap, and its gradient (a segment sum).
    const table = random([1000, 100], 14);
    const ids = tf.tensor1d(Int32Array.from({ length: Math.ceil(heap() / 4 / 100) }, (_, i) => (i * 7) % 1000), "int32");
    const looked = tf.gather(table, ids);
    assert.deepEqual(Array.from(looked.slice([3, 0], [1, 100]).dataSync()), Array.from(table.slice([21, 0], [1, 100]).dataSync()));
    const dTable = tf.grad((t: tf.Tensor) => tf.gather(t, ids).sum())(table).dataSync();
    const uses = Array.from({ length: 1000 }, () => 0);
    for (const id of ids.dataSync()) uses[id]++;
    assert.ok(dTable.every((v, k) => v === uses[Math.floor(k / 100)]), "each row's gradient counts its lookups");
    return [];
  });
});

test("Sum over leading axes (bias gradients) and every other reduction match the CPU backend", async () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [6, 5], axis: 0, keepDims: false },
    { shape: [2, 3, 4], axis: [1, 0], keepDims: false },
    { shape: [2, 3, 4], axis: [0, 1], keepDims: true },
    { shape: [2, 3, 4], axis: 0, keepDims: false },
    { shape: [2, 3, 4], axis: 1, keepDims: false }, // not leading: the stock kernel
    { shape: [2, 3, 4], axis: -1, keepDims: true },
    { shape: [2, 3, 4], axis: [0, 1, 2], keepDims: false }, // everything: the stock kernel
    { shape: [0, 3], axis: 0, keepDims: false }, // no rows: zeros
  ];
  for (const { shape, axis, keepDims } of cases) {
    const { cpu, wasm } = await both(() => {
      const x = random(shape, 21);
      const y = tf.sum(x, axis, keepDims);
      return [y.shape, Array.from(y.dataSync()), Array.from(tf.grad((t: tf.Tensor) => tf.sum(t, axis).square().sum())(x).dataSync())];
    });
    const what = `sum(${shape}, axis ${axis}, keepDims ${keepDims})`;
    assert.deepEqual(wasm[0], cpu[0], `${what}: shape`);
    assertClose(wasm[1] as number[], cpu[1] as number[], 1e-5, what);
    assertClose(wasm[2] as number[], cpu[2] as number[], 1e-5, `${what}: gradient`);
  }
});

test("ReLU's one-pass gradient matches the CPU backend (zeros, negatives, NaN)", async () => {
  const { cpu, wasm } = await both(() => {
    const x = tf.concat([random([40], 22), tf.tensor1d([0, -0, NaN, 1e-30, -1e-30])]);
    const weights = random([45], 23);
    return Array.from(tf.grad((t: tf.Tensor) => tf.relu(t).mul(weights).sum())(x).dataSync());
  });
  assertClose(wasm, cpu, 0, "d relu");
});
