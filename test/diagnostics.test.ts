// Lecture 04's diagnostics (lib/diagnostics.ts): each statistic on small fixed inputs, the layer-output
// gradients (gradient taps) against finite differences, and no tensor leak across training steps.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { Diagnostics, gradToDataRatio, histogramCurve, moments, saturatedFraction, updateToDataRatio } from "../lib/diagnostics";
import { Tanh, deepMLP, gradientTap } from "../lib/layers";
import { crossEntropy } from "../lib/losses";
import { buildDataset } from "../lib/dataset";
import { namesTokenizer } from "../lib/tokenizer";
import { Generator } from "../lib/random";
import { randomBatches, train } from "../lib/train";

before(async () => {
  await initEngine("wasm");
});

const close = (a: number, b: number, tolerance: number, what: string) => assert.ok(Math.abs(a - b) <= tolerance, `${what}: ${a}, expected ${b}`);

test("moments: mean and the unbiased standard deviation (as torch.std)", () => {
  const { mean, std } = moments([1, 2, 3, 4]);
  close(mean, 2.5, 1e-12, "mean");
  close(std, Math.sqrt(5 / 3), 1e-12, "std"); // squares 2.25 + 0.25 + 0.25 + 2.25 = 5, over n - 1 = 3
  assert.throws(() => moments([1]), /at least 2 values/);
});

test("saturatedFraction counts |v| > 0.97 (strictly)", () => {
  assert.equal(saturatedFraction([0.5, -0.98, 0.97, 0.99, -1]), 3 / 5);
  assert.equal(saturatedFraction([0.5, 0.6], 0.55), 1 / 2);
});

test("histogramCurve: bin centres and a density whose area is 1", () => {
  const { x, y } = histogramCurve([0, 1, 1, 2, 3, 4], 4); // bins of width 1 from 0 to 4
  assert.deepEqual(x, [0.5, 1.5, 2.5, 3.5]);
  assert.deepEqual(y, [1 / 6, 2 / 6, 1 / 6, 2 / 6]); // the maximum falls into the last bin
  close(y.reduce((s, v) => s + v * 1, 0), 1, 1e-12, "area");
  assert.deepEqual(histogramCurve([2, 2], 2), { x: [2.25, 2.75], y: [2, 0] }, "equal values: bins over [2, 3]");
});

test("grad:data and update:data ratios", () => {
  const data = [1, -1, 1, -1]; // std 2 / sqrt(3)
  const grad = [0.01, -0.01, 0.01, -0.01];
  close(gradToDataRatio(grad, data), 0.01, 1e-12, "grad:data");
  close(updateToDataRatio(0.1, grad, data), -3, 1e-12, "log10(0.1 * 0.01)");
});

test("gradientTap: forward is the identity, the backward pass records d loss / d x", () => {
  let recorded: number[] = [];
  const x = tf.tensor1d([1, 2, 3]);
  const grad = tf.grad((t: tf.Tensor) => gradientTap(t, (dy) => (recorded = Array.from(dy.dataSync()))).square().sum())(x);
  assert.deepEqual(Array.from(tf.tidy(() => gradientTap(x, () => {}).dataSync())), [1, 2, 3]);
  assert.deepEqual(recorded, [2, 4, 6], "d sum(y^2) / dy = 2y");
  assert.deepEqual(Array.from(grad.dataSync()), [2, 4, 6], "and the gradient passes through unchanged");
  tf.dispose([x, grad]);
});

test("each Tanh layer's output gradient (retainGrad) matches finite differences of the loss", () => {
  const vocabSize = 7;
  const model = deepMLP({ vocabSize, blockSize: 2, nEmbd: 3, nHidden: 6, nLayers: 2 }, new Generator(11));
  const g = new Generator(2);
  const X = tf.tensor2d(Array.from({ length: 16 }, () => g.integer(vocabSize)), [8, 2], "int32");
  const Y = tf.tensor1d(Array.from({ length: 8 }, () => g.integer(vocabSize)), "int32");
  const diagnostics = new Diagnostics(model.layers);
  tf.tidy(() => void tf.grads(() => model.forward(X, Y, { training: true }).loss!)(model.parameters()));
  const tanhIndices = model.layers.flatMap((layer, i) => (layer instanceof Tanh ? [i] : []));
  for (const k of tanhIndices) {
    const h = model.layers[k].out!.clone();
    const tapped = model.layers[k].outGrad!.arraySync() as number[][];
    // The loss as a function of this layer's output: the layers after it, in training mode.
    const lossFrom = (input: tf.Tensor) =>
      tf.tidy(() => crossEntropy(model.layers.slice(k + 1).reduce((t, layer) => layer.forward(t, { training: true }), input), Y).dataSync()[0]);
    const eps = 1e-2;
    for (const [b, j] of [[0, 0], [3, 2], [7, 5], [5, 1]]) {
      const bump = tf.tidy(() => tf.oneHot(tf.tensor1d([b * 6 + j], "int32"), 48).reshape([8, 6]).mul(eps));
      const numeric = (lossFrom(h.add(bump)) - lossFrom(h.sub(bump))) / (2 * eps);
      close(tapped[b][j], numeric, 2e-4, `layer ${k} d loss / d out[${b}, ${j}]`);
      bump.dispose();
    }
    h.dispose();
  }
  diagnostics.dispose();
  assert.equal(model.layers[tanhIndices[0]].outGrad, undefined, "dispose frees the gradients");
  model.dispose();
  tf.dispose([X, Y]);
});

test("Diagnostics through train's onStep: the four statistics, and no tensor leak across steps", async () => {
  const words = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia"];
  const tokenizer = namesTokenizer(words);
  const data = buildDataset(words, tokenizer, 3);
  const model = deepMLP({ vocabSize: tokenizer.vocabSize, blockSize: 3, nEmbd: 4, nHidden: 16, nLayers: 3 }, new Generator(1));
  const diagnostics = new Diagnostics(model.layers);
  const run = (steps: number) =>
    train(model, randomBatches(data, 8, new Generator(5)), { steps, learningRate: 0.1, progress: false, onStep: (info) => diagnostics.onStep(info) });
  await run(2);
  const tensors = tf.memory().numTensors;
  await run(10);
  assert.equal(tf.memory().numTensors, tensors, "tensors after 2 steps and after 12");
  assert.equal(diagnostics.updateRatios.length, 12);
  assert.equal(diagnostics.updateRatios[0].length, 5, "C and four Linear weights");
  const activations = diagnostics.activations();
  assert.equal(activations.length, 3);
  assert.ok(activations.every((a) => a.std > 0 && a.std < 1 && a.saturatedPercent! >= 0 && a.curve.x.length === 100));
  assert.ok(diagnostics.gradients().every((a) => a.std > 0 && Number.isFinite(a.mean)));
  const weights = diagnostics.weightGradients();
  assert.deepEqual(weights.map((w) => w.shape), [[tokenizer.vocabSize, 4], [12, 16], [16, 16], [16, 16], [16, tokenizer.vocabSize]]);
  assert.ok(weights.every((w) => w.gradToData > 0));
  diagnostics.dispose();
  model.dispose();
});
