// Lecture 06: cmp's three answers, the two one-line backward passes against autograd, the loop's
// plumbing, and the lecture network's first loss from its draws against PyTorch's.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { batchNormBackward, cmp, crossEntropyBackward } from "../lib/backprop";
import { runSteps } from "../lib/step-loop";
import { crossEntropy } from "../lib/losses";
import { Generator } from "../lib/random";
import { TorchGenerator } from "../lib/torch-random";
import { PythonRandom } from "../lib/python-random";
import { buildDataset, sampleBatch, splitWords } from "../lib/dataset";
import { namesTokenizer } from "../lib/tokenizer";
import { courseNames } from "./course-data";

before(async () => {
  await initEngine("wasm");
});

test("cmp: exact, approximate (PyTorch's allclose) and the largest difference", () => {
  tf.tidy(() => {
    const t = tf.tensor([1, -2, 3e-3, 0]);
    assert.deepEqual(pick(cmp("same", t, t.clone())), { exact: true, approximate: true, maxDiff: 0 });
    // 1e-7 on 1: within rtol 1e-5, not bitwise equal
    const close = cmp("close", tf.tensor([1 + 2 ** -20, -2, 3e-3, 0]), t);
    assert.deepEqual([close.exact, close.approximate], [false, true]);
    assert.equal(close.maxDiff, Math.fround(1 + 2 ** -20) - 1);
    // 1e-3 on 3e-3: far outside allclose
    const far = cmp("far", tf.tensor([1, -2, 4e-3, 0]), t);
    assert.deepEqual([far.exact, far.approximate], [false, false]);
    assert.ok(Math.abs(far.maxDiff - 1e-3) < 1e-9);
    // near zero only atol (1e-8) counts
    assert.equal(cmp("atol", tf.tensor([0, 0, 0, 5e-9]), tf.zeros([4])).approximate, true);
    assert.equal(cmp("atol", tf.tensor([0, 0, 0, 5e-8]), tf.zeros([4])).approximate, false);
    const nan = cmp("nan", tf.tensor([NaN, -2, 3e-3, 0]), t);
    assert.deepEqual([nan.exact, nan.approximate, Number.isNaN(nan.maxDiff)], [false, false, true]);
    assert.match(close.line, /^close +\| exact: false \| approximate: true  \| maxdiff: /);
    assert.throws(() => cmp("shape", tf.zeros([4, 1]), t), /shape \[4,1\].*\[4\]/);
  });
});

/**
 * Float32 rounding, relative to the gradient's scale: allclose's per-element rtol fails on elements
 * that happen to be near zero, where two float32 orders of summation legitimately differ.
 */
function assertClose(comparison: { maxDiff: number; line: string }, autograd: tf.Tensor) {
  const scale = autograd.abs().max().dataSync()[0];
  assert.ok(comparison.maxDiff <= 1e-6 * scale, `${comparison.line} (largest |gradient| ${scale})`);
}

function pick(c: { exact: boolean; approximate: boolean; maxDiff: number }) {
  return { exact: c.exact, approximate: c.approximate, maxDiff: c.maxDiff };
}

test("crossEntropyBackward equals autograd's gradient of the mean cross-entropy", () => {
  const g = new Generator(5);
  tf.tidy(() => {
    const logits = g.randn([16, 27]).mul(3) as tf.Tensor2D;
    const Y = tf.tensor1d(Array.from({ length: 16 }, () => g.integer(27)), "int32");
    const autograd = tf.grad((x: tf.Tensor) => crossEntropy(x, Y))(logits);
    const ours = crossEntropyBackward(logits, Y);
    assertClose(cmp("logits", ours, autograd), autograd);
    // every row sums to zero: the pushes up on the wrong classes balance the pull down on the right one
    assert.ok(ours.sum(1).abs().max().dataSync()[0] < 1e-7);
  });
});

test("batchNormBackward equals autograd's gradient through BatchNorm with Bessel's correction", () => {
  const g = new Generator(6);
  tf.tidy(() => {
    const n = 32;
    const x = g.randn([n, 12]).mul(2).add(0.5) as tf.Tensor2D;
    const gain = g.randn([1, 12]).mul(0.1).add(1);
    const bias = g.randn([1, 12]).mul(0.1);
    const upstream = g.randn([n, 12]); // a made-up d loss / d out
    const forward = (input: tf.Tensor) => {
      const mean = input.sum(0, true).div(n);
      const variance = input.sub(mean).square().sum(0, true).div(n - 1);
      return gain.mul(input.sub(mean).mul(variance.add(1e-5).pow(-0.5))).add(bias);
    };
    const autograd = tf.grad((input: tf.Tensor) => forward(input).mul(upstream).sum())(x);
    const mean = x.sum(0, true).div(n);
    const varInv = x.sub(mean).square().sum(0, true).div(n - 1).add(1e-5).pow(-0.5);
    const xhat = x.sub(mean).mul(varInv) as tf.Tensor2D;
    const ours = batchNormBackward(upstream as tf.Tensor2D, xhat, gain, varInv);
    assertClose(cmp("x", ours, autograd), autograd);
    assert.throws(() => batchNormBackward(upstream.slice(0, 1) as tf.Tensor2D, xhat.slice(0, 1), gain, varInv), /at least 2/);
  });
});

test("runSteps runs every step, keeps the losses, and stops with a clear error on a non-finite loss", async () => {
  const seen: number[] = [];
  const run = await runSteps(5, (i) => (seen.push(i), 10 - i), { title: "t", progress: false });
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.deepEqual(run.losses, [10, 9, 8, 7, 6]);
  assert.deepEqual([run.stepsDone, run.stopped], [5, false]);
  await assert.rejects(runSteps(5, (i) => (i === 2 ? NaN : 1), { title: "diverges", progress: false }), /diverges: the loss is NaN at step 2/);
  await assert.rejects(runSteps(1.5, () => 1, { title: "t", progress: false }), /whole number/);
});

test("lecture 06's network gives PyTorch's first loss from the same draws, without leaking tensors", async () => {
  const words = await courseNames();
  const trainSet = buildDataset(splitWords(words, new PythonRandom(42)).train, namesTokenizer(words), 3);
  const before = tf.memory().numTensors;
  const loss = tf.tidy(() => {
    const g = new TorchGenerator(2147483647);
    const C = g.randn([27, 10]);
    const W1 = g.randn([30, 64]).mul(5 / 3 / Math.sqrt(30));
    const b1 = g.randn([64]).mul(0.1);
    const W2 = g.randn([64, 27]).mul(0.1);
    const b2 = g.randn([27]).mul(0.1);
    const global = new TorchGenerator(42); // torch.manual_seed(42): the lecture's unseeded torch.randn
    const bngain = global.randn([1, 64]).mul(0.1).add(1);
    const bnbias = global.randn([1, 64]).mul(0.1);
    const { X, Y } = sampleBatch(trainSet, 32, g);
    const hprebn = tf.gather(C, X).reshape([32, 30]).matMul(W1).add(b1);
    const mean = hprebn.sum(0, true).div(32);
    const varInv = hprebn.sub(mean).square().sum(0, true).div(31).add(1e-5).pow(-0.5);
    const h = bngain.mul(hprebn.sub(mean).mul(varInv)).add(bnbias).tanh();
    return crossEntropy(h.matMul(W2).add(b2), Y).dataSync()[0];
  });
  // PyTorch 1.13, the lecture's code with torch.manual_seed(42) (scripts/pytorch-reference/lecture06.py)
  assert.equal(loss.toFixed(4), "3.3444");
  assert.equal(tf.memory().numTensors, before);
});
