// Lecture 07's pieces (lib/layers.ts, lib/wavenet.ts): FlattenConsecutive's shapes and values, BatchNorm1d on
// [B, T, C] (statistics over dims 0 and 1) against a hand computation in training and evaluation, the fused
// Linear -> BatchNorm1d -> Tanh block on rank-3 input against the plain CPU path, the convolutional form
// equal to the hierarchical one, and no tensor leaks across steps. The lecture's BatchNorm bug as a layer
// (PositionwiseBatchNorm1d): statistics per (position, channel), gamma per channel, by hand.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { BatchNorm1d, FlattenConsecutive, PositionwiseBatchNorm1d } from "../lib/layers";
import { convolutionalForward, wavenet } from "../lib/wavenet";
import { Generator } from "../lib/random";
import { setFastPaths } from "../lib/engine";
import { on } from "./backend-comparison";
import { batchNormByHand } from "./batchnorm-by-hand";

before(async () => {
  await initEngine("wasm");
});

/** int32 indices in [0, high) of the given shape, from `generator`. */
function indices(generator: Generator, high: number, shape: number[]): tf.Tensor {
  const count = shape.reduce((a, b) => a * b);
  return tf.tensor(Array.from({ length: count }, () => generator.integer(high)), shape, "int32");
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: lengths`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: ${actual[i]}, expected ${expected[i]}`);
  }
}

test("FlattenConsecutive(2): [B, T, C] -> [B, T/2, 2C], each pair's vectors side by side; n = T gives [B, T*C]", () => {
  const x = tf.range(0, 2 * 4 * 3).reshape([2, 4, 3]); // x[b, t, c] = 12b + 3t + c
  const y = new FlattenConsecutive(2).forward(x);
  assert.deepEqual(y.shape, [2, 2, 6]);
  const rows = y.arraySync() as number[][][];
  assert.deepEqual(rows[1][1], [12 + 6, 12 + 7, 12 + 8, 12 + 9, 12 + 10, 12 + 11]); // t = 2 and t = 3 of example 1
  assert.deepEqual(rows[0][0], [0, 1, 2, 3, 4, 5]);
  const all = new FlattenConsecutive(4).forward(x);
  assert.deepEqual(all.shape, [2, 12]);
  assert.deepEqual(Array.from(all.dataSync()), Array.from(x.dataSync()));
  assert.throws(() => new FlattenConsecutive(3).forward(x), /not a multiple of 3/);
  tf.dispose([x, y, all]);
});

test("BatchNorm1d on [B, T, C]: statistics over dims (0, 1) in training, the running ones in evaluation, by hand", () => {
  // B = 2, T = 2, C = 2: per channel the four values of all examples and positions.
  const values = [[[1, 10], [3, 20]], [[5, 30], [7, 60]]];
  const norm = new BatchNorm1d(2, { momentum: 0.1 });
  const x = tf.tensor3d(values);
  const y = norm.forward(x, { training: true });
  assert.deepEqual(y.shape, [2, 2, 2]);
  const hand = batchNormByHand(values.flat(), { momentum: 0.1 }); // the B * T = 4 rows
  assertClose(y.dataSync(), hand.y.flat(), 1e-4, "training output");
  assertClose(norm.runningMean.dataSync(), hand.runningMean, 1e-5, "running mean");
  assertClose(norm.runningVar.dataSync(), hand.runningVar, 1e-5, "running variance (unbiased, n = B * T)");
  assert.deepEqual(norm.runningMean.shape, [2], "the running mean is [C], not [1, T, C]");
  const yEval = norm.forward(x, { training: false });
  const rm = norm.runningMean.dataSync();
  const rv = norm.runningVar.dataSync();
  const evalHand = values.flat().flatMap((row) => row.map((v, c) => (v - rm[c]) / Math.sqrt(rv[c] + 1e-5)));
  assertClose(yEval.dataSync(), evalHand, 1e-5, "evaluation output");
  tf.dispose([x, y, yEval]);
  norm.dispose();
});

test("PositionwiseBatchNorm1d (the lecture's bug): statistics over dim 0 per (position, channel), gamma and beta per channel, by hand", () => {
  // B = 2, T = 2, C = 2: per (t, c) the two values of the two examples.
  const values = [[[1, 10], [3, 20]], [[5, 30], [7, 60]]];
  const norm = new PositionwiseBatchNorm1d(2, 2);
  tf.tidy(() => { norm.gamma.assign(tf.tensor1d([2, 3])); norm.beta.assign(tf.tensor1d([-1, 1])); });
  const x = tf.tensor3d(values);
  const y = norm.forward(x, { training: true });
  assert.deepEqual(y.shape, [2, 2, 2]);
  const gamma = [2, 3];
  const beta = [-1, 1];
  const yHand: number[][][] = [[[], []], [[], []]];
  const means: number[] = [];
  const unbiased: number[] = [];
  for (let t = 0; t < 2; t++) {
    for (let c = 0; c < 2; c++) {
      const [a, b] = [values[0][t][c], values[1][t][c]];
      const mean = (a + b) / 2;
      const biased = ((a - mean) ** 2 + (b - mean) ** 2) / 2;
      means.push(mean);
      unbiased.push(biased * 2);
      yHand[0][t][c] = ((a - mean) / Math.sqrt(biased + 1e-5)) * gamma[c] + beta[c];
      yHand[1][t][c] = ((b - mean) / Math.sqrt(biased + 1e-5)) * gamma[c] + beta[c];
    }
  }
  assertClose(y.dataSync(), yHand.flat(2), 1e-4, "training output");
  assertClose(norm.statistics.runningMean.dataSync(), means.map((m) => 0.1 * m), 1e-5, "running mean, [T * C]");
  assertClose(norm.statistics.runningVar.dataSync(), unbiased.map((v) => 0.9 + 0.1 * v), 1e-4, "running variance (unbiased, n = B)");
  assert.deepEqual(norm.parameters().map((p) => p.shape), [[2], [2]], "gamma and beta per channel, as the lecture's class");
  const yEval = norm.forward(x, { training: false });
  const rm = norm.statistics.runningMean.dataSync();
  const rv = norm.statistics.runningVar.dataSync();
  const evalHand = values.flatMap((example) => example.flatMap((row, t) => row.map((v, c) => ((v - rm[2 * t + c]) / Math.sqrt(rv[2 * t + c] + 1e-5)) * gamma[c] + beta[c])));
  assertClose(yEval.dataSync(), evalHand, 1e-5, "evaluation output");
  assert.throws(() => norm.forward(tf.zeros([2, 4, 2])), /expected x of shape \[B, 2, 2\]/);
  tf.dispose([x, y, yEval]);
  norm.dispose();
});

test("the hierarchical model on rank-3 input: the fused WASM blocks give the CPU path's loss and running statistics", async () => {
  const config = { vocabSize: 27, blockSize: 8, nEmbd: 6, nHidden: 16 };
  const idx = indices(new Generator(3), 27, [32, 8]);
  const targets = indices(new Generator(4), 27, [32]);
  const run = async (backend: "cpu" | "wasm") => {
    assert.ok(await tf.setBackend(backend));
    const model = wavenet(config, new Generator(1));
    const loss = tf.tidy(() => model.forward(idx, targets, { training: true }).loss!.dataSync()[0]);
    const norms = model.layers.filter((l): l is BatchNorm1d => l instanceof BatchNorm1d);
    const running = norms.flatMap((n) => [...n.runningMean.dataSync(), ...n.runningVar.dataSync()]);
    model.dispose();
    return { loss: loss, running: running };
  };
  try {
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    assertClose([wasm.loss], [cpu.loss], 1e-4, "loss");
    assertClose(wasm.running, cpu.running, 1e-4, "running statistics");
  } finally {
    await tf.setBackend("wasm");
  }
  tf.dispose([idx, targets]);
});

/** One training step of wavenet()'s model: loss, every gradient, every running statistic, every layer's `out`. */
function bugStepNumbers(config: { vocabSize: number; blockSize: number; nEmbd: number; nHidden: number }, batchNorm: "fixed" | "bug"): number[][] {
  const model = wavenet(config, new Generator(1), batchNorm);
  const idx = indices(new Generator(3), config.vocabSize, [32, config.blockSize]);
  const targets = indices(new Generator(4), config.vocabSize, [32]);
  const { value, grads } = tf.valueAndGrads(() => model.forward(idx, targets, { training: true }).loss!)(model.parameters());
  const buffers = model.layers.flatMap((l) => (l instanceof PositionwiseBatchNorm1d ? [l.statistics] : l instanceof BatchNorm1d ? [l] : []));
  const result = [
    [value.dataSync()[0]],
    ...grads.map((g) => Array.from(g.dataSync())),
    ...buffers.flatMap((n) => [Array.from(n.runningMean.dataSync()), Array.from(n.runningVar.dataSync())]),
    ...model.layers.slice(1).map((l) => Array.from(l.out!.dataSync())),
  ];
  model.dispose();
  return result;
}

// The BatchNorm bug's fused kernel (statistics per position): widths 16 and 12 (a multiple of 4, three
// levels of 4, 2 and 1 positions); width 6 is not a multiple of 4, so its levels run layer by layer.
// And the fixed model (statistics over dims (0, 1)), width 16.
for (const [nHidden, batchNorm] of [[16, "bug"], [12, "bug"], [6, "bug"], [16, "fixed"]] as const) {
  test(`the hierarchical model with the BatchNorm ${batchNorm}, width ${nHidden}: fused WASM blocks give the CPU path's loss, gradients, running statistics and outputs`, async () => {
    const config = { vocabSize: 27, blockSize: 8, nEmbd: 6, nHidden: nHidden };
    const cpu = await on("cpu", () => bugStepNumbers(config, batchNorm));
    const wasm = await on("wasm", () => bugStepNumbers(config, batchNorm));
    const before = setFastPaths({ fusedBlocks: false });
    const unfused = await on("wasm", () => bugStepNumbers(config, batchNorm)).finally(() => setFastPaths(before));
    assert.equal(wasm.length, cpu.length);
    for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], cpu[i], 2e-4, `result ${i} against the CPU backend`);
    for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], unfused[i], 2e-4, `result ${i} against WASM layer by layer`);
  });
}

test("the BatchNorm bug's training step runs one fused kernel per level each way and leaks nothing", async () => {
  const config = { vocabSize: 27, blockSize: 8, nEmbd: 10, nHidden: 68 };
  const model = wavenet(config, new Generator(1), "bug");
  const idx = indices(new Generator(3), 27, [32, 8]);
  const targets = indices(new Generator(4), 27, [32]);
  const step = () => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => model.forward(idx, targets, { training: true }).loss! as tf.Scalar, model.parameters());
    for (const p of model.parameters()) p.assign(p.sub(grads[p.name].mul(0.1)));
  });
  const { kernels } = await tf.profile(() => step());
  assert.equal(kernels.filter((k) => k.name === "LinearBatchNormTrain").length, 3, "three levels forward");
  assert.equal(kernels.filter((k) => k.name === "LinearBatchNormTrainGrad").length, 3, "and backward");
  // FlattenConsecutive goes with the block after it: its `out` is x's data in its shape, no Reshape runs.
  assert.equal(kernels.filter((k) => k.name === "Reshape").length, 0, "no Reshape forward or backward");
  assert.deepEqual(model.layers.filter((l) => l instanceof FlattenConsecutive).map((l) => l.out!.shape), [[32, 4, 20], [32, 2, 136], [32, 136]], "FlattenConsecutive's out");
  assert.equal(kernels.filter((k) => k.name === "LinearBias").length, 1, "the last Linear as one kernel");
  const tensors = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, tensors, "tensors per step");
  tf.dispose([idx, targets]);
  model.dispose();
});

test("the convolutional form (dilated causal convolutions over a whole name) equals the hierarchical model at every position", () => {
  const config = { vocabSize: 27, blockSize: 8, nEmbd: 5, nHidden: 12 };
  const model = wavenet(config, new Generator(7));
  // Train a step's worth of statistics so the running ones are not the identity.
  tf.tidy(() => void model.forward(indices(new Generator(8), 27, [64, 8]), undefined, { training: true }));
  const name = [4, 9, 15, 14, 4, 18, 5, 0]; // "diondre." as indices: d i o n d r e .
  const { conv, hierarchical } = tf.tidy(() => {
    const padded = [...Array(config.blockSize).fill(0), ...name]; // 8 dots of context first
    const windows = name.map((_, i) => padded.slice(i, i + config.blockSize)); // [8, 8], one context per position
    const hierarchical = model.forward(tf.tensor2d(windows, undefined, "int32")).logits.clone(); // [8, 27], a copy: the next forward frees the layer's kept out
    const conv = convolutionalForward(model, tf.tensor2d([padded.slice(0, -1)], undefined, "int32")); // "........diondre" -> [1, 8, 27]
    return { conv: conv.reshape([name.length, config.vocabSize]), hierarchical: hierarchical };
  });
  assertClose(conv.dataSync(), hierarchical.dataSync(), 1e-4, "logits");
  tf.dispose([conv, hierarchical]);
  model.dispose();
});

test("no tensor leaks: training steps and the convolutional form leave the tensor count unchanged", () => {
  const model = wavenet({ vocabSize: 27, blockSize: 8, nEmbd: 4, nHidden: 8 }, new Generator(2));
  const idx = indices(new Generator(5), 27, [16, 8]);
  const targets = indices(new Generator(6), 27, [16]);
  const step = () => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => model.forward(idx, targets, { training: true }).loss! as tf.Scalar, model.parameters());
    for (const p of model.parameters()) p.assign(p.sub(grads[p.name].mul(0.1)));
  });
  step();
  convolutionalForward(model, idx).dispose();
  const before = tf.memory().numTensors;
  step();
  step();
  convolutionalForward(model, idx).dispose();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([idx, targets]);
  model.dispose();
});
