// The engine's fused versions of lecture formulas (lib/engine/fused-ops.ts) against the plain
// formulas on the CPU backend.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine, setFastPaths } from "../lib/engine";
import { fusedSgdUpdate, fusedSgdUpdates } from "../lib/engine/fused-ops";
import { SGD } from "../lib/optim";
import { Generator } from "../lib/random";

before(async () => {
  await initEngine("wasm");
});

function onBackend<T>(backend: string, f: () => T): T {
  const active = tf.getBackend();
  tf.setBackend(backend);
  try {
    return f();
  } finally {
    tf.setBackend(active);
  }
}

test("the fused SGD update equals p - lr * grad on the CPU backend", () => {
  const g = new Generator(3);
  const p = Array.from(g.randn([37, 23]).dataSync());
  const grad = Array.from(g.randn([37, 23]).dataSync());
  const expected = onBackend("cpu", () => tf.tidy(() => tf.tensor(p, [37, 23]).sub(tf.tensor(grad, [37, 23]).mul(0.1)).dataSync()));
  const fused = tf.tidy(() => fusedSgdUpdate(tf.tensor(p, [37, 23]), tf.tensor(grad, [37, 23]), 0.1)!.dataSync());
  assert.equal(fused.length, expected.length);
  for (let i = 0; i < fused.length; i++) assert.ok(Math.abs(fused[i] - expected[i]) < 1e-6, `element ${i}: ${fused[i]} vs ${expected[i]}`);
});

// With our SIMD loop (simd-kernels.c) and without it (the threaded build: the backend's C functions).
for (const simd of [true, false]) {
  test(`the fused SGD update of several parameters at once (one kernel${simd ? ", SIMD loop" : ", C functions"}) equals p - lr * grad for each, on the CPU backend`, async () => {
    setFastPaths({ simd });
    const shapes = [[30, 100], [100], [27, 10], [1], [7]];
    const g = new Generator(4);
    const values = shapes.map((shape) => ({ shape, p: Array.from(g.randn(shape).dataSync()), grad: Array.from(g.randn(shape).dataSync()) }));
    const expected = onBackend("cpu", () => tf.tidy(() => values.map(({ shape, p, grad }) => Array.from(tf.tensor(p, shape).sub(tf.tensor(grad, shape).mul(0.05)).dataSync()))));
    const { kernels, result } = await tf.profile(() =>
      tf.tidy(() => fusedSgdUpdates(values.map((v) => tf.tensor(v.p, v.shape)), values.map((v) => tf.tensor(v.grad, v.shape)), 0.05)!.map((t) => Array.from(t.dataSync()))),
    ).finally(() => setFastPaths({ simd: true }));
    assert.equal(kernels.filter((k) => k.name === "SgdUpdate").length, 1, "one kernel");
    (result as number[][]).forEach((updated, i) => {
      for (let j = 0; j < updated.length; j++) assert.ok(Math.abs(updated[j] - expected[i][j]) < 1e-6, `parameter ${i}, element ${j}: ${updated[j]} vs ${expected[i][j]}`);
    });
  });
}

test("the fused SGD update steps aside where it does not apply: other backends, other shapes", () => {
  tf.tidy(() => {
    assert.equal(fusedSgdUpdate(tf.ones([3]), tf.ones([4]), 0.1), undefined, "shapes differ: the plain formula broadcasts or errors");
    onBackend("cpu", () => assert.equal(fusedSgdUpdate(tf.ones([3]), tf.ones([3]), 0.1), undefined));
  });
});

test("SGD.step moves every variable by -lr * grad and leaks nothing", () => {
  const variables = [tf.variable(tf.tensor1d([1, 2, 3])), tf.variable(tf.tensor2d([[1, -1]]))];
  const tensors = tf.memory().numTensors;
  tf.tidy(() => new SGD().step(variables, [tf.tensor1d([1, 0, -1]), tf.tensor2d([[10, 10]])], 0.5));
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(Array.from(variables[0].dataSync()), [0.5, 2, 3.5]);
  assert.deepEqual(Array.from(variables[1].dataSync()), [-4, -6]);
  tf.dispose(variables);
});
