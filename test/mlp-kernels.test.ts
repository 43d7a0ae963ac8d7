// Lecture 03's step on our SIMD kernels (lib/engine/mlp-kernels.ts: small matmuls with their transposed
// cases and both gradients of a product in one kernel, tanh and its gradient, the bias sums) against the plain path: the CPU backend's ops (loss,
// every gradient, the parameters after an SGD step), and WASM without the SIMD kernels (the same bits,
// which is what keeps notebook 03's printed numbers). And it leaks nothing.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine, setFastPaths } from "../lib/engine";
import { float32Tanh } from "../lib/engine/float32-tanh";
import { crossEntropy } from "../lib/losses";
import { MLPLanguageModel } from "../lib/mlp";
import { SGD } from "../lib/optim";
import { Generator } from "../lib/random";
import { assertClose, on, randomTensor } from "./backend-comparison";

before(async () => {
  await initEngine("wasm");
});

async function withoutSimd<T>(body: () => Promise<T>): Promise<T> {
  const before = setFastPaths({ simd: false });
  try {
    return await body();
  } finally {
    setFastPaths(before);
  }
}

const CONFIG = { vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 200 };

/** One SGD step of the lecture's MLP (its init: tanh saturates, so every tanh branch runs): loss, gradients, parameters after. */
function stepNumbers(batchSize = 32, nHidden = 200): number[][] {
  const g = new Generator(2147483647);
  const model = new MLPLanguageModel({ ...CONFIG, nHidden }, g);
  const X = tf.tensor2d(Array.from({ length: batchSize * 3 }, () => g.integer(27)), [batchSize, 3], "int32");
  const Y = tf.tensor1d(Array.from({ length: batchSize }, () => g.integer(27)), "int32");
  const parameters = model.parameters();
  const { value, grads } = tf.valueAndGrads(() => model.forward(X, Y, { training: true }).loss!)(parameters);
  const result = [[value.dataSync()[0]], ...grads.map((grad) => Array.from(grad.dataSync()))];
  new SGD().step(parameters, grads, 0.1);
  result.push(...parameters.map((p) => Array.from(p.dataSync())));
  model.dispose();
  return result;
}

test("lecture 03's step on WASM (SIMD kernels): loss, every gradient and the parameters after SGD match the CPU backend's ops", async () => {
  for (const [batchSize, nHidden] of [[32, 200], [7, 13], [3, 2]]) {
    const cpu = await on("cpu", () => stepNumbers(batchSize, nHidden));
    const wasm = await on("wasm", () => stepNumbers(batchSize, nHidden));
    assert.equal(wasm.length, cpu.length);
    for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], cpu[i], 1e-5, `batch ${batchSize}, hidden ${nHidden}, result ${i}`);
  }
});

test("lecture 03's step: the SIMD kernels give the same bits as WASM without them", async () => {
  const simd = await on("wasm", () => stepNumbers());
  const plain = await withoutSimd(() => on("wasm", () => stepNumbers()));
  for (let i = 0; i < plain.length; i++) assert.deepEqual(simd[i], plain[i], `result ${i}`);
});

test("lecture 03's step runs on our kernels, without Transpose or Reshape for the gradients, and leaks nothing", async () => {
  const g = new Generator(5);
  const model = new MLPLanguageModel(CONFIG, g, { W2: 0.01, b2: 0 });
  const X = tf.tensor2d(Array.from({ length: 96 }, () => g.integer(27)), [32, 3], "int32");
  const Y = tf.tensor1d(Array.from({ length: 32 }, () => g.integer(27)), "int32");
  const step = () =>
    tf.tidy(() => {
      const parameters = model.parameters();
      const { value, grads } = tf.valueAndGrads(() => model.forward(X, Y, { training: true }).loss!)(parameters);
      new SGD().step(parameters, grads, 0.1);
      return value.dataSync()[0];
    });
  step();
  const { kernels } = await tf.profile(() => void step());
  const count = (name: string) => kernels.filter((k) => k.name === name).length;
  assert.equal(count("BatchMatMul"), 2, "two forward");
  assert.equal(count("MatMulGradients"), 2, "both gradients of each product from one kernel");
  assert.equal(count("Transpose"), 0, "the matmuls read transposed operands themselves");
  assert.equal(count("Reshape"), 2, "the embedding's view and its gradient; Add's gradients need none");
  assert.ok(kernels.length <= 17, `${kernels.length} kernels per step`);
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors, "tensors per step");
  model.dispose();
  tf.dispose([X, Y]);
});

test("matmuls with every transpose flag and awkward sizes: the same bits with and without the SIMD kernels, close to the CPU backend", async () => {
  const shapes = [[1, 1, 1], [3, 5, 2], [4, 4, 4], [5, 7, 9], [32, 30, 200], [30, 32, 200], [200, 32, 27], [32, 27, 200], [13, 17, 31]];
  for (const [m, k, n] of shapes) {
    for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const product = () => {
        const a = randomTensor(transposeA ? [k, m] : [m, k], m * 1000 + k);
        const b = randomTensor(transposeB ? [n, k] : [k, n], n * 1000 + k + 1);
        return Array.from(tf.matMul(a, b, transposeA, transposeB).dataSync());
      };
      const what = `[${m}, ${k}] x [${k}, ${n}], transposes ${transposeA} ${transposeB}`;
      const simd = await on("wasm", product);
      assert.deepEqual(simd, await withoutSimd(() => on("wasm", product)), what);
      assertClose(simd, await on("cpu", product), 1e-5, what);
    }
  }
});

test("tanh and its gradient on SIMD lanes: the same bits as float32Tanh and dy (1 - y^2) in float64, across every branch", async () => {
  // Every range: small, the rational's edge (7.905), the exp band up to 9.02, saturation, inf and NaN.
  const g = new Generator(9);
  const xs = [0, -0, 1e-30, 7.9053111, -7.9053112, 8.5, -9.0199995, 9.02, -9.0200005, 20, Infinity, -Infinity, NaN];
  for (let i = 0; i < 4000; i++) xs.push(g.normal() * 6);
  const x = new Float32Array(xs);
  const expected = Array.from(x, (v) => Math.fround(float32Tanh(v)));
  const [y, dx] = await on("wasm", () => {
    const xt = tf.tensor1d(x);
    const [value, grad] = [tf.tanh(xt), tf.grad((t: tf.Tensor) => tf.tanh(t).mul(tf.tensor1d(x)).sum())(xt)];
    return [Array.from(value.dataSync()), Array.from(grad.dataSync())];
  });
  assert.deepEqual(y, expected);
  const expectedGrad = Array.from(x, (v, i) => Math.fround(v * (1 - expected[i] * expected[i])));
  assert.deepEqual(dx, expectedGrad);
});

test("bias sums over the batch on SIMD lanes: the same bits as the float64 loop, every width", async () => {
  for (const [rows, inner] of [[32, 200], [32, 27], [5, 3], [1, 9], [7, 8]]) {
    const sum = () => Array.from(randomTensor([rows, inner], rows + inner).sum(0).dataSync());
    assert.deepEqual(await on("wasm", sum), await withoutSimd(() => on("wasm", sum)), `[${rows}, ${inner}]`);
  }
});

// 32 rows: a training batch; 3,000 rows (81,000 logits): above the size prepared outside a gradient
// computation, as lecture 02's whole-data-set step.
for (const rows of [32, 3_000]) {
  test(`the cross-entropy gradient prepared by the forward kernel has the same bits as one computed anew (${rows} rows)`, async () => {
    const numbers = (recompute: boolean) => {
      const logits = randomTensor([rows, 27], 11, 3);
      const targets = tf.tensor1d(Array.from({ length: rows }, (_, i) => (i * 7) % 27), "int32");
      const other = randomTensor([rows, 27], 12);
      return Array.from(
        tf.grad((x: tf.Tensor) => {
          const loss = crossEntropy(x, targets);
          if (recompute) crossEntropy(other, targets); // a later forward call: the backward kernel cannot reuse the first one's gradient
          return loss;
        })(logits).dataSync(),
      );
    };
    assert.deepEqual(await on("wasm", () => numbers(false)), await on("wasm", () => numbers(true)));
  });
}
