// The engine choice (lib/engine/engine.ts) and the WebAssembly fixes (lib/engine/wasm-fixes.ts).
//
// The order of the tests in this file matters (node:test runs them one after another):
//   1. before any engine starts, the CPU backend computes reference gradients with tfjs's *stock*
//      gradients (initEngine("wasm") later replaces the BatchMatMul gradient for every backend);
//   2. the engine tests start WASM;
//   3. the same computations run on WASM and must match the references.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { describeEngine, engineInfo, initEngine, type EngineInfo } from "../lib/engine/engine";
import { Generator } from "../lib/random";

delete process.env.ZTH_ENGINE; // the tests choose engines themselves
tf.enableProdMode(); // no "install tfjs-node" banner

const TOLERANCE = 1e-5;

/** Deterministic values in [-1, 1), so both backends see the same inputs. */
function values(shape: number[], seed: number): number[] {
  const random = new Generator(seed);
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * random.random() - 1);
}

/** A computation whose result (a list of tensors) is compared between backends. */
interface Case {
  name: string;
  run: () => tf.Tensor[];
}

/** Runs `run` in a tidy on the current backend and reads its tensors back as plain numbers. */
function evaluate(run: () => tf.Tensor[]): { shape: number[]; data: number[] }[] {
  const tensors = tf.tidy(run);
  const results = tensors.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
  tf.dispose(tensors);
  return results;
}

function assertAllClose(actual: number[], expected: number[], what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const ok = Math.abs(actual[i] - expected[i]) <= TOLERANCE * Math.max(1, Math.abs(expected[i]));
    assert.ok(ok, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Gradients of sum(f(inputs) * weights): random weights make dL/dy non-uniform, so bugs cannot hide. */
function gradientsOf(f: (...inputs: tf.Tensor[]) => tf.Tensor, shapes: number[][], seed: number): () => tf.Tensor[] {
  return () => {
    const inputs = shapes.map((shape, i) => tf.tensor(values(shape, seed + i), shape));
    const grad = tf.grads((...xs: tf.Tensor[]) => {
      const y = f(...xs);
      return y.mul(tf.tensor(values(y.shape, seed + 100), y.shape)).sum();
    });
    return [f(...inputs), ...grad(inputs)];
  };
}

// --- Matmul: the four transpose combinations, 2-D and batched (rank 3). --------------------------
// Logical shapes: A [M, K] @ B [K, N]; a transposed operand is stored with its last two axes swapped.
const M = 3, K = 4, N = 5;
const matmulCases: Case[] = [];
for (const batch of [[], [2]]) {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const aShape = [...batch, ...(transposeA ? [K, M] : [M, K])];
      const bShape = [...batch, ...(transposeB ? [N, K] : [K, N])];
      matmulCases.push({
        name: `matMul(${aShape}, ${bShape}, transposeA=${transposeA}, transposeB=${transposeB})`,
        run: gradientsOf((a, b) => tf.matMul(a, b, transposeA, transposeB), [aShape, bShape], 10 + matmulCases.length),
      });
    }
  }
}

// --- Gather: embedding lookups, whose gradient needs UnsortedSegmentSum. -----------------------------
const gatherCases: Case[] = [
  {
    name: "embedding lookup C[ix] with repeated indices, C [7, 3]",
    run: () => {
      const C = tf.tensor2d(values([7, 3], 1), [7, 3]);
      const ix = tf.tensor1d([0, 2, 2, 5, 0, 0, 6, 2], "int32");
      const weights = tf.tensor2d(values([8, 3], 2), [8, 3]);
      const [dC] = tf.grads((c: tf.Tensor) => tf.gather(c, ix).mul(weights).sum())([C]);
      return [tf.gather(C, ix), dC];
    },
  },
  {
    name: "context lookup C[X] with X [6, 3] (the MLP's block of 3 characters), C [27, 2]",
    run: () => {
      const C = tf.tensor2d(values([27, 2], 3), [27, 2]);
      const X = tf.tensor2d([[0, 0, 0], [0, 0, 5], [0, 5, 13], [5, 13, 13], [13, 13, 1], [0, 0, 0]], [6, 3], "int32");
      const weights = tf.tensor3d(values([6, 3, 2], 4), [6, 3, 2]);
      const [dC] = tf.grads((c: tf.Tensor) => tf.gather(c, X).mul(weights).sum())([C]);
      return [tf.gather(C, X), dC];
    },
  },
  {
    name: "picking columns: gather along axis 1 of a [4, 6] matrix",
    run: () => {
      const x = tf.tensor2d(values([4, 6], 5), [4, 6]);
      const ix = tf.tensor1d([5, 1, 1, 0], "int32");
      const weights = tf.tensor2d(values([4, 4], 6), [4, 4]);
      const [dx] = tf.grads((t: tf.Tensor) => tf.gather(t, ix, 1).mul(weights).sum())([x]);
      return [dx];
    },
  },
];

// --- UnsortedSegmentSum itself. --------------------------------------------------------------------
const segmentCases: Case[] = [
  {
    name: "unsortedSegmentSum of a vector",
    run: () => [tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4, 5]), tf.tensor1d([1, 0, 1, 3, 1], "int32"), 4)],
  },
  {
    name: "unsortedSegmentSum of the rows of a [5, 3] matrix (an empty segment stays 0)",
    run: () => [tf.unsortedSegmentSum(tf.tensor2d(values([5, 3], 7), [5, 3]), tf.tensor1d([2, 0, 2, 2, 0], "int32"), 4)],
  },
  {
    name: "unsortedSegmentSum of a [4, 2, 3] tensor",
    run: () => [tf.unsortedSegmentSum(tf.tensor3d(values([4, 2, 3], 8), [4, 2, 3]), tf.tensor1d([1, 1, 0, 1], "int32"), 2)],
  },
];

const allCases = [...matmulCases, ...gatherCases, ...segmentCases];
const reference = new Map<string, { shape: number[]; data: number[] }[]>();

// ---------------------------------------------------------------------------------------------------
// 1. Before any engine: references on the stock CPU backend.

test("engineInfo before initEngine says to call initEngine", () => {
  assert.throws(() => engineInfo(), /initEngine/);
});

test("the CPU backend computes the stock reference values (before the WASM fixes are registered)", async () => {
  assert.ok(await tf.setBackend("cpu"));
  await tf.ready();
  for (const c of allCases) reference.set(c.name, evaluate(c.run));
  // A sanity check that the reference is right, by hand: segments [1+3+5, 2, 0, 4].
  assert.deepEqual(reference.get(segmentCases[0].name)![0].data, [2, 9, 0, 4]);
});

test("the stock WASM backend has no UnsortedSegmentSum kernel (why wasm-fixes exists)", () => {
  require("@tensorflow/tfjs-backend-wasm"); // registers the backend and its kernels, not our fixes
  assert.equal(tf.getKernel("UnsortedSegmentSum", "wasm"), undefined);
});

test("a broadcast matmul gradient ([2,3,4] @ [4,5]) fails on the stock gradient (reference for later)", () => {
  assert.throws(() => evaluate(gradientsOf((a, b) => tf.matMul(a, b), [[2, 3, 4], [4, 5]], 50)), /gradient of input 'b'/);
});

// ---------------------------------------------------------------------------------------------------
// 2. The engine.

test("an unknown engine name is a clear error, as argument or as ZTH_ENGINE", async () => {
  await assert.rejects(initEngine("gpu"), /ZTH_ENGINE=gpu is not an engine: use one of node, wasm, cpu/);
  process.env.ZTH_ENGINE = "tpu";
  try {
    await assert.rejects(initEngine(), /ZTH_ENGINE=tpu is not an engine/);
  } finally {
    delete process.env.ZTH_ENGINE;
  }
});

test('forcing "node" without tfjs-node installed fails clearly and leaves no engine behind', async () => {
  await assert.rejects(initEngine("node"), (error: Error) => {
    assert.match(error.message, /^No TensorFlow.js engine could start\./);
    assert.match(error.message, /node: .*@tensorflow\/tfjs-node/);
    return true;
  });
  assert.throws(() => engineInfo(), /initEngine/);
  assert.equal(tf.getBackend(), "cpu");
});

let wasmInfo: EngineInfo;

test("initEngine() without a forced name skips the missing tfjs-node and starts WASM with SIMD", async () => {
  wasmInfo = await initEngine();
  assert.equal(wasmInfo.engine, "wasm");
  assert.equal(wasmInfo.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(wasmInfo.simd, true);
  assert.ok(Number.isInteger(wasmInfo.threads) && wasmInfo.threads! >= 1, `threads: ${wasmInfo.threads}`);
  assert.equal(wasmInfo.versions.tfjs, tf.version.tfjs);
  assert.equal(wasmInfo.versions.node, process.version);
  assert.equal(engineInfo(), wasmInfo);
});

test("initEngine is safe to call twice: the running engine is returned as is", async () => {
  assert.equal(await initEngine(), wasmInfo);
  assert.equal(await initEngine("wasm"), wasmInfo);
});

test("describeEngine names the engine, SIMD, threads and versions on one line", () => {
  const line = describeEngine();
  assert.equal(line, describeEngine(wasmInfo));
  assert.match(line, /^Engine: wasm \(SIMD, \d+ threads?(: cores busy)?\) \| TensorFlow\.js 4\.22\.0 \| Node v\d+\.\d+\.\d+$/);
  const busy = describeEngine({ ...wasmInfo, threads: 1, threadsNote: "cores busy" });
  assert.match(busy, /^Engine: wasm \(SIMD, 1 thread: cores busy\) \| /);
  assert.ok(!line.includes("\n"));
  const cpu = describeEngine({ engine: "cpu", backend: "cpu", versions: { tfjs: "4.22.0", node: "v20.0.0" } });
  assert.equal(cpu, "Engine: cpu | TensorFlow.js 4.22.0 | Node v20.0.0");
});

test("the WASM fixes are registered once WASM starts", () => {
  assert.notEqual(tf.getKernel("UnsortedSegmentSum", "wasm"), undefined);
});

// ---------------------------------------------------------------------------------------------------
// 3. WASM (with the fixes) against the stock CPU references.

for (const c of allCases) {
  test(`on WASM: ${c.name} equals the stock CPU backend`, () => {
    assert.equal(tf.getBackend(), "wasm");
    const expected = reference.get(c.name)!;
    const actual = evaluate(c.run);
    assert.equal(actual.length, expected.length);
    actual.forEach((result, i) => {
      assert.deepEqual(result.shape, expected[i].shape, `output ${i} shape`);
      assertAllClose(result.data, expected[i].data, `output ${i}`);
    });
  });
}

test("on WASM: the matmul gradient equals the formulas dA = dY B^T, dB = A^T dY", () => {
  const [dA, dB, formulaA, formulaB] = evaluate(() => {
    const A = tf.tensor2d(values([M, K], 20), [M, K]);
    const B = tf.tensor2d(values([K, N], 21), [K, N]);
    const dY = tf.tensor2d(values([M, N], 22), [M, N]);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b).mul(dY).sum())([A, B]);
    return [...grads, tf.matMul(dY, tf.transpose(B)), tf.matMul(tf.transpose(A), dY)];
  });
  assertAllClose(dA.data, formulaA.data, "dA");
  assertAllClose(dB.data, formulaB.data, "dB");
});

test("on WASM: unsortedSegmentSum drops out-of-range segment ids, as TensorFlow does", () => {
  const [sums] = evaluate(() => [tf.unsortedSegmentSum(tf.tensor1d([1, 10, 100, 1000]), tf.tensor1d([0, -1, 2, 1], "int32"), 2)]);
  assert.deepEqual(sums.data, [1, 1000]);
});

test("on WASM: a broadcast matmul gradient ([2,3,4] @ [4,5], which fails on the stock gradient) sums over the batch", () => {
  const [, dA, dB, formulaA, formulaB] = evaluate(() => {
    const [y, ...grads] = gradientsOf((a, b) => tf.matMul(a, b), [[2, 3, 4], [4, 5]], 50)();
    const A = tf.tensor3d(values([2, 3, 4], 50), [2, 3, 4]);
    const B = tf.tensor2d(values([4, 5], 51), [4, 5]);
    const dY = tf.tensor3d(values([2, 3, 5], 150), [2, 3, 5]);
    // dA = dY B^T slice by slice; dB = sum over the batch of A_i^T dY_i = A^T dY with the batch folded into rows.
    return [y, ...grads, tf.matMul(dY, B.transpose().expandDims(0).tile([2, 1, 1])), tf.matMul(A.reshape([6, 4]).transpose(), dY.reshape([6, 5]))];
  });
  assert.deepEqual(dA.shape, [2, 3, 4]);
  assert.deepEqual(dB.shape, [4, 5]);
  assertAllClose(dA.data, formulaA.data, "dA");
  assertAllClose(dB.data, formulaB.data, "dB");
});

test("on WASM: backprop through a lookup leaks no tensors", () => {
  const C = tf.variable(tf.tensor2d(values([27, 2], 30), [27, 2]));
  const X = tf.tensor2d([[0, 0, 5], [0, 5, 13]], [2, 3], "int32");
  const before = tf.memory().numTensors;
  for (let step = 0; step < 5; step++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.gather(C, X).square().sum() as tf.Scalar, [C]);
      C.assign(C.sub(grads[C.name].mul(0.1)));
    });
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([C, X]);
});

test("on WASM: tensors saved for the backward pass share their data (no Identity kernel), survive the forward pass's tidy, and leak nothing", async () => {
  const x = tf.variable(tf.tensor2d(values([4, 3], 40), [4, 3]));
  const w = tf.tensor2d(values([3, 2], 41), [3, 2]);
  // tanh saves its output, matMul its inputs; the inner tidy frees the forward's own tensors.
  const gradient = () => tf.grads((v: tf.Tensor) => tf.tidy(() => tf.tanh(v).matMul(w).square().sum()))([x])[0];
  const before = tf.memory().numTensors;
  const { kernels, result } = await tf.profile(() => tf.tidy(() => Array.from(gradient().dataSync())));
  assert.equal(tf.memory().numTensors, before, "tensors");
  assert.equal(kernels.filter((k) => k.name === "Identity").length, 0, "Identity kernels");
  const expected = tf.tidy(() => {
    const t = tf.tanh(x);
    const y = t.matMul(w);
    return Array.from(y.mul(2).matMul(w.transpose()).mul(tf.onesLike(t).sub(t.square())).dataSync()); // 2y w^T (1 - tanh^2)
  });
  assertAllClose(result as number[], expected, "d/dx");
  tf.dispose([x, w]);
});

test("initEngine('cpu') switches to the CPU backend afterwards", async () => {
  const info = await initEngine("cpu");
  assert.equal(info.engine, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.equal(describeEngine(), `Engine: cpu | TensorFlow.js ${tf.version.tfjs} | Node ${process.version}`);
});
