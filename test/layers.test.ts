// Lecture 04's layers (lib/layers.ts): BatchNorm1d in training and evaluation mode against hand
// computations, its fused WASM kernels (lib/engine/batchnorm-kernels.ts, which the engine's plan runs for
// a BatchNorm1d in a Sequential: lib/engine/layer-plan.ts) against the layer's own ops on the CPU
// backend, Kaiming init's spread, the deep net's size, and no tensor leaks across steps.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { BatchNorm1d, Linear, Sequential, Tanh, deepMLP } from "../lib/layers";
import { Generator } from "../lib/random";
import { batchNormByHand } from "./batchnorm-by-hand";

before(async () => {
  await initEngine("wasm");
});

async function on<T extends tf.TensorContainer>(backend: "cpu" | "wasm", f: () => T): Promise<T> {
  assert.ok(await tf.setBackend(backend));
  try {
    return tf.tidy(f);
  } finally {
    await tf.setBackend("wasm");
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: ${actual[i]}, expected ${expected[i]} (tolerance ${tolerance})`);
  }
}

const X_ROWS = [
  [1, 2, -1],
  [3, 0, -1],
  [2, 4, -1],
  [6, -2, -1],
]; // the last column is constant: eps keeps it finite


for (const backend of ["cpu", "wasm"] as const) {
  test(`BatchNorm1d on ${backend}: training normalises with the batch, updates the running statistics by hand's formula`, async () => {
    await on(backend, () => {
      const bn = new BatchNorm1d(3, { momentum: 0.1 });
      bn.gamma.assign(tf.tensor1d([2, 1, 1]));
      bn.beta.assign(tf.tensor1d([0.5, 0, 0]));
      const y = new Sequential([bn]).forward(tf.tensor2d(X_ROWS), { training: true }).arraySync() as number[][]; // on WASM: the kernel
      const hand = batchNormByHand(X_ROWS, { gamma: [2, 1, 1], beta: [0.5, 0, 0], momentum: 0.1 });
      assertClose(y.flat(), hand.y.flat(), 1e-5, "y");
      // running = 0.9 * running + 0.1 * batch, from mean 0 and variance 1; the variance unbiased (B - 1).
      assertClose(bn.runningMean.dataSync(), hand.runningMean, 1e-6, "running mean");
      assertClose(bn.runningVar.dataSync(), hand.runningVar, 1e-6, "running variance");
      bn.dispose();
      return [];
    });
  });
}

test("BatchNorm1d in evaluation mode uses the running statistics and leaves them alone", async () => {
  await on("wasm", () => {
    const bn = new BatchNorm1d(3);
    bn.runningMean.assign(tf.tensor1d([1, 2, 3]));
    bn.runningVar.assign(tf.tensor1d([4, 9, 16]));
    const y = bn.forward(tf.tensor2d([[3, 2, -1]])).dataSync(); // one example: no batch needed
    assertClose(y, [2 / Math.sqrt(4 + 1e-5), 0, -4 / Math.sqrt(16 + 1e-5)], 1e-6, "y");
    assertClose(bn.runningMean.dataSync(), [1, 2, 3], 0, "running mean unchanged");
    assertClose(bn.runningVar.dataSync(), [4, 9, 16], 0, "running variance unchanged");
    assert.throws(() => bn.forward(tf.tensor2d([[3, 2, -1]]), { training: true }), /at least 2 examples/);
    bn.dispose();
    return [];
  });
});

test("the fused BatchNorm kernels: output, running statistics and gradients match the CPU backend's ops", async () => {
  const run = () => {
    const g = new Generator(5);
    const x = g.randn([32, 20]).mul(3).add(1);
    const w = g.randn([32, 20]); // a loss that weighs each output differently
    const bn = new BatchNorm1d(20, { momentum: 0.001 });
    bn.gamma.assign(g.randn([20]));
    bn.beta.assign(g.randn([20]));
    const input = tf.variable(x);
    const net = new Sequential([bn]); // on WASM the engine runs the BatchNorm as its kernel, on CPU as the layer's ops
    const { value, grads } = tf.variableGrads(() => net.forward(input, { training: true }).mul(w).sum() as tf.Scalar, [input, bn.gamma, bn.beta]);
    const dParams = [grads[bn.gamma.name], grads[bn.beta.name]];
    const result = [[value.dataSync()[0]], Array.from(grads[input.name].dataSync()), ...dParams.map((d) => Array.from(d.dataSync())), Array.from(bn.runningMean.dataSync()), Array.from(bn.runningVar.dataSync())];
    net.dispose();
    input.dispose();
    return result;
  };
  const cpu = await on("cpu", run);
  const wasm = await on("wasm", run);
  assert.ok(tf.getKernel("BatchNormTrain", "wasm") && !tf.getKernel("BatchNormTrain", "cpu"), "fused on WASM, ops on CPU");
  for (const [i, name] of ["loss", "dx", "dgamma", "dbeta", "running mean", "running variance"].entries()) {
    assertClose(wasm[i], cpu[i], 1e-4, name);
  }
});

test("the engine's plan runs a BatchNorm1d in a Sequential as its kernel on [B, T, C], with the layer's numbers and its out kept; on its own the layer runs its ops", async () => {
  const run = async (through: "sequential" | "layer") => {
    const bn = new BatchNorm1d(6, { momentum: 0.1 });
    const x = new Generator(8).randn([4, 5, 6]).mul(2).add(0.5); // statistics over the 20 rows of dims (0, 1)
    let y = x;
    const profile = await tf.profile(() => void (y = (through === "sequential" ? new Sequential([bn]) : bn).forward(x, { training: true })));
    const result = { y: Array.from(y.dataSync()), out: Array.from(bn.out!.dataSync()), shape: bn.out!.shape, running: [...bn.runningMean.dataSync(), ...bn.runningVar.dataSync()] };
    tf.dispose([x, y]);
    bn.dispose();
    return { result, kernels: profile.kernels.map((k) => k.name) };
  };
  assert.ok(await tf.setBackend("cpu"));
  const cpu = (await run("sequential")).result;
  assert.ok(await tf.setBackend("wasm"));
  const planned = await run("sequential");
  const alone = await run("layer");
  assert.ok(planned.kernels.includes("BatchNormTrain"), `the plan uses the kernel on WASM (ran ${planned.kernels})`);
  assert.ok(!alone.kernels.includes("BatchNormTrain"), "a layer called on its own runs its formula");
  assert.deepEqual(planned.result.shape, [4, 5, 6], "out keeps the input's shape");
  assertClose(planned.result.out, planned.result.y, 0, "out is the output");
  for (const other of [cpu, alone.result]) {
    assertClose(planned.result.y, other.y, 1e-5, "y");
    assertClose(planned.result.running, other.running, 1e-6, "running statistics");
  }
});

test("Kaiming init: Linear's weights have standard deviation gain / sqrt(fanIn), within sampling error", () => {
  const fanIn = 500;
  const linear = new Linear(fanIn, 400, { generator: new Generator(3), gain: 5 / 3, bias: false });
  const values = Array.from(linear.weight.dataSync());
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const expected = 5 / 3 / Math.sqrt(fanIn);
  // The sample std of n normal values has a relative standard error of about 1 / sqrt(2n): allow 4 of them.
  assert.ok(Math.abs(std / expected - 1) < 4 / Math.sqrt(2 * n), `std ${std}, expected ${expected}`);
  assert.equal(linear.parameters().length, 1, "no bias");
  // And it does what it is for: unit-variance inputs keep a unit-variance (times gain) output.
  const out = Array.from(tf.tidy(() => linear.forward(new Generator(4).randn([1000, fanIn]))).dataSync());
  const outStd = Math.sqrt(out.reduce((s, v) => s + v * v, 0) / out.length);
  assert.ok(Math.abs(outStd / (5 / 3) - 1) < 0.03, `output std ${outStd}`);
  linear.dispose();
});

test("the lecture's deep net has 47,024 parameters, each layer keeps its output, and nothing leaks per step", () => {
  const model = deepMLP({ vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 100 }, new Generator(2147483647));
  assert.equal(model.numParameters(), 47_024);
  assert.equal(model.layers.filter((l) => l instanceof Tanh).length, 5);
  assert.equal(model.layers.filter((l) => l instanceof BatchNorm1d).length, 6);
  const g = new Generator(1);
  const X = tf.tensor2d(Array.from({ length: 96 }, () => g.integer(27)), [32, 3], "int32");
  const Y = tf.tensor1d(Array.from({ length: 32 }, () => g.integer(27)), "int32");
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads(() => model.forward(X, Y, { training: true }).loss!)(model.parameters());
      model.parameters().forEach((p, i) => p.assign(p.sub(grads[i].mul(0.1))));
      return value.dataSync()[0];
    });
  const first = step();
  assert.ok(Math.abs(first - Math.log(27)) < 0.1, `the first loss ${first} is near ln(27): the last layer starts small`);
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, tensors, "tensors per step");
  assert.deepEqual(model.layers.at(-1)!.out!.shape, [32, 27]);
  assert.deepEqual(model.layers[4]!.out!.shape, [32, 100], "the first Tanh's output");
  // Evaluation mode does not touch the running statistics.
  const bn = model.layers[3] as BatchNorm1d;
  const before = Array.from(bn.runningMean.dataSync());
  tf.tidy(() => void model.forward(X, Y));
  assert.deepEqual(Array.from(bn.runningMean.dataSync()), before);
  model.dispose();
  tf.dispose([X, Y]);
});

