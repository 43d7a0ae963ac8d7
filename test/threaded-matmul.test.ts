// The threaded matmul (lib/engine/threaded-matmul.ts, matmul-helpers.ts) on the threaded WASM build:
// products split by rows between this thread and a helper thread give the same bits as one thread
// (threadedMatMul off: our SIMD kernel or XNNPACK) and the CPU backend's values within float rounding,
// values and gradients, for every transpose flag and batch layout; the helper computes rows; no
// tensor is left behind; a helper that cannot start fails at once with a clear message, never hangs.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { describeEngine, initEngine, setFastPaths } from "../lib/engine";
import { startMatMulHelpers } from "../lib/engine/matmul-helpers";
import { matMulHelpers, threadedMatMul } from "../lib/engine/threaded-matmul";
import { assertClose, matMulAndGradients, on, randomTensor, stored } from "./backend-comparison";

before(async () => {
  delete process.env.ZTH_THREADS; // this file asks for two threads itself
  const info = await initEngine({ engine: "wasm", threads: 2 });
  assert.match(describeEngine(info), /^Engine: wasm \(SIMD, 2 threads\) \|/, "the threaded build with one matmul helper");
  assert.ok(matMulHelpers()?.running(), "the helper runs");
});

// Logical shapes A [..., M, K] @ B [..., K, N], each above the size that is split (1M multiply-adds),
// with rows and columns that are not multiples of the kernel's tiles.
const cases: { name: string; a: number[]; b: number[] }[] = [
  { name: "2-D", a: [101, 130], b: [130, 90] },
  { name: "a batch against one matrix", a: [3, 50, 100], b: [100, 93] },
  { name: "one matrix against a batch", a: [61, 100], b: [4, 100, 50] },
  { name: "equal rank-4 batches (attention's)", a: [2, 3, 64, 70], b: [2, 3, 70, 45] },
];

for (const c of cases) {
  for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]]) {
    const [aShape, bShape] = [stored(c.a, transposeA), stored(c.b, transposeB)];
    test(`${c.name}: matMul(${aShape}, ${bShape}, ${transposeA}, ${transposeB}) on two threads: one thread's bits, the CPU backend's values`, async () => {
      const run = matMulAndGradients(aShape, bShape, transposeA, transposeB);
      const threaded = await on("wasm", run);
      const before = setFastPaths({ threadedMatMul: false });
      const oneThread = await on("wasm", run).finally(() => setFastPaths(before));
      const cpu = await on("cpu", run);
      for (const [i, what] of ["value", "dA", "dB"].entries()) {
        assert.deepEqual(threaded[i].shape, cpu[i].shape, `${what} shape`);
        assert.deepEqual(threaded[i].data, oneThread[i].data, `${what}: the same bits as on one thread`);
        assertClose(threaded[i].data, cpu[i].data, 1e-5, what);
      }
    });
  }
}

/** The kernel itself, called directly on the WASM backend: undefined where it leaves the product to the other paths. */
function kernelOutput(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor | undefined {
  const info = threadedMatMul({ inputs: { a, b }, backend: tf.backend(), attrs: { transposeA, transposeB } });
  return info && tf.engine().makeTensorFromTensorInfo(info);
}

test("the products above are the threaded kernel's, the small ones and setFastPaths({ threadedMatMul: false }) are not", async () => {
  await on("wasm", () => {
    const [a, b] = [randomTensor([101, 130], 1), randomTensor([130, 90], 2)];
    const out = kernelOutput(a, b);
    assert.ok(out, "a product of 1.2M multiply-adds is split");
    assert.equal(kernelOutput(a.slice([0, 0], [20, 130]), b), undefined, "one of 0.2M stays on one thread");
    const before = setFastPaths({ threadedMatMul: false });
    try {
      assert.equal(kernelOutput(a, b), undefined);
    } finally {
      setFastPaths(before);
    }
    return [out!];
  });
});

test("the helper thread computes rows of the products", async () => {
  await on("wasm", () => {
    const [a, b] = [randomTensor([768, 128], 1), randomTensor([128, 512], 2)];
    const helper = () => matMulHelpers()!.blocksByThread()[1];
    const start = helper();
    // The helper sleeps between products: on a busy machine it may wake after this thread did all the rows.
    for (let i = 0; i < 1000 && helper() === start; i++) tf.matMul(a, b).dispose();
    assert.ok(helper() > start, `the helper computed no block in 1000 products: ${matMulHelpers()!.blocksByThread()}`);
    return [];
  });
});

test("the threaded kernel leaks no memory and leaves no tensor behind", async () => {
  await on("wasm", () => {
    const [a, b] = [randomTensor([256, 128], 4), randomTensor([512, 128], 5)];
    tf.matMul(a, b, false, true).dispose(); // warm up
    const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes };
    for (let i = 0; i < 5; i++) tf.matMul(a, b, false, true).dispose();
    assert.deepEqual({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes }, before);
    return [];
  });
});

test("helpers that cannot start fail at once with the reason: an ordinary memory, a start timeout", async () => {
  await assert.rejects(startMatMulHelpers(new WebAssembly.Memory({ initial: 1 }), 1), /the memory is not shared: matmul helpers need the threaded build's/);
  const shared = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  await assert.rejects(startMatMulHelpers(shared, 1, 0), /the matmul helpers did not start within 0 s/);
});
