// The bigram neural net (lib/bigram-net.ts) and its loss (lib/losses.ts), on the CPU backend.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { bigramCounts, bigramProbabilities, averageNll } from "../lib/bigram";
import { buildDataset } from "../lib/dataset";
import { bigramNetLogits, bigramNetLoss } from "../lib/bigram-net";
import { crossEntropy } from "../lib/losses";
import { Generator } from "../lib/random";
import { namesTokenizer } from "../lib/tokenizer";

tf.enableProdMode();

before(async () => {
  assert.ok(await tf.setBackend("cpu"));
  await tf.ready();
});

function assertClose(actual: number, expected: number, tolerance: number, what: string) {
  const ok = Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
  assert.ok(ok, `${what}: got ${actual}, expected ${expected} (tolerance ${tolerance})`);
}

/** -log(softmax(row)[target]) in float64, the stable way: logsumexp(row) - row[target]. */
function nllByHand(row: number[], target: number): number {
  const max = Math.max(...row);
  const logSumExp = max + Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
  return logSumExp - row[target];
}

function softmaxByHand(row: number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Reads a scalar and disposes it. */
function scalar(t: tf.Tensor): number {
  const value = t.dataSync()[0];
  t.dispose();
  return value;
}

// A small problem: V = 5 tokens, W [5, 5] from a seeded generator, 7 (x, y) pairs with repeats.
const V = 5;
const W_VALUES = (() => {
  const g = new Generator(17);
  return Array.from({ length: V }, () => Array.from({ length: V }, () => g.normal()));
})();
const XS = [0, 1, 1, 3, 4, 0, 2];
const YS = [1, 2, 2, 0, 4, 3, 0];

test("crossEntropy equals the mean of -log(softmax(logits))[target], computed by hand", () => {
  const logits = [[1, 2, 3], [1, -1, 0.5], [0, 0, 0], [-2, 4, 1]];
  const targets = [2, 0, 1, 1];
  const byHand = targets.reduce((sum, t, i) => sum + -Math.log(softmaxByHand(logits[i])[t]), 0) / targets.length;
  const loss = scalar(crossEntropy(tf.tensor2d(logits), tf.tensor1d(targets, "int32")));
  assertClose(loss, byHand, 1e-6, "crossEntropy");
  // One row, uniform logits: log(3).
  assertClose(scalar(crossEntropy(tf.tensor2d([[0, 0, 0]]), tf.tensor1d([1], "int32"))), Math.log(3), 1e-6, "uniform");
});

test("crossEntropy accepts float targets and [B, T, C] logits with [B, T] targets", () => {
  const logits = tf.tensor3d(W_VALUES.flat().slice(0, 24), [2, 3, 4]);
  const targets = tf.tensor2d([[0, 3, 1], [2, 2, 0]], [2, 3], "int32");
  const flat = scalar(crossEntropy(logits.reshape([6, 4]), targets.reshape([6])));
  assertClose(scalar(crossEntropy(logits, targets)), flat, 1e-7, "[B, T, C]");
  assertClose(scalar(crossEntropy(logits, targets.toFloat())), flat, 1e-7, "float targets");
  tf.dispose([logits, targets]);
});

test("crossEntropy is finite and right for huge logits, where the naive exp overflows", () => {
  const logits = [[1000, 0, -1000], [0, 1000, 999], [-1000, -1000, -1000]];
  const targets = [0, 2, 1];
  // Row 0: ~0.  Row 1: 1000 + log(1 + e^-1) - 999 = 1.3132617.  Row 2: log 3.
  const byHand = (nllByHand(logits[0], 0) + nllByHand(logits[1], 2) + nllByHand(logits[2], 1)) / 3;
  assertClose(byHand, (0 + (1 + Math.log(1 + Math.exp(-1))) + Math.log(3)) / 3, 1e-12, "the arithmetic itself");
  const L = tf.tensor2d(logits);
  const T = tf.tensor1d(targets, "int32");
  // The naive way: exp(1000) is Infinity in float32, and Infinity / Infinity is NaN.
  const naive = tf.tidy(() => {
    const counts = L.exp();
    const probs = counts.div(counts.sum(1, true));
    return probs.mul(tf.oneHot(T, 3)).sum(1).log().neg().mean();
  });
  assert.ok(!Number.isFinite(scalar(naive)), "the naive loss should overflow here");
  const loss = scalar(crossEntropy(L, T));
  assert.ok(Number.isFinite(loss));
  assertClose(loss, byHand, 1e-6, "huge logits");
  // Its gradient is finite too: (softmax - onehot) / N.
  const [grad] = tf.grads((l: tf.Tensor) => crossEntropy(l, T))([L]);
  const g = grad.arraySync() as number[][];
  g.flat().forEach((v) => assert.ok(Number.isFinite(v), `gradient ${v}`));
  logits.forEach((row, i) =>
    softmaxByHand(row).forEach((p, j) => assertClose(g[i][j], (p - (j === targets[i] ? 1 : 0)) / 3, 1e-6, `dL/dlogits[${i}][${j}]`)),
  );
  tf.dispose([L, T, grad]);
});

test("tf.softmax turns each row into probabilities that sum to 1", () => {
  const probs = tf.softmax(tf.tensor2d(W_VALUES)).arraySync() as number[][];
  probs.forEach((row, i) => {
    assert.ok(row.every((p) => p > 0 && p < 1));
    assertClose(row.reduce((a, b) => a + b, 0), 1, 1e-6, `row ${i}`);
    row.forEach((p, j) => assertClose(p, softmaxByHand(W_VALUES[i])[j], 1e-6, `softmax[${i}][${j}]`));
  });
});

test("bigramNetLogits: one-hot(x) @ W picks row x of W", () => {
  const W = tf.tensor2d(W_VALUES);
  const logits = bigramNetLogits(W, tf.tensor1d(XS, "int32")).arraySync();
  assert.equal(logits.length, XS.length);
  XS.forEach((x, i) => logits[i].forEach((v, j) => assertClose(v, W_VALUES[x][j], 1e-6, `logits[${i}][${j}]`)));
  W.dispose();
});

test("bigramNetLoss = cross-entropy + regularization * mean(W^2), by hand", () => {
  const W = tf.tensor2d(W_VALUES);
  const xs = tf.tensor1d(XS, "int32");
  const ys = tf.tensor1d(YS, "int32");
  const nll = XS.reduce((sum, x, i) => sum + nllByHand(W_VALUES[x], YS[i]), 0) / XS.length;
  const meanSquare = W_VALUES.flat().reduce((sum, w) => sum + w * w, 0) / (V * V);
  assertClose(scalar(bigramNetLoss(W, xs, ys, 0)), nll, 1e-6, "no regularization");
  assertClose(scalar(bigramNetLoss(W, xs, ys, 0.1)), nll + 0.1 * meanSquare, 1e-6, "regularization 0.1");
  assertClose(scalar(bigramNetLoss(W, xs, ys)), nll + 0.01 * meanSquare, 1e-6, "default regularization 0.01");
  const added = scalar(bigramNetLoss(W, xs, ys, 0.5)) - scalar(bigramNetLoss(W, xs, ys, 0));
  assertClose(added, 0.5 * meanSquare, 1e-5, "the added term");
  // W = 0: every probability is 1/V, and the regularization adds nothing.
  assertClose(scalar(bigramNetLoss(tf.zeros([V, V]) as tf.Tensor2D, xs, ys, 0.3)), Math.log(V), 1e-6, "W = 0");
  tf.dispose([W, xs, ys]);
});

const REGULARIZATION = 0.1;

/** dLoss/dW by hand: sum over pairs of (softmax(W[x]) - onehot(y)) in row x, / N, plus 2 reg W / V^2. */
function gradientByHand(): number[][] {
  const grad = W_VALUES.map((row) => row.map((w) => (2 * REGULARIZATION * w) / (V * V)));
  XS.forEach((x, i) => {
    softmaxByHand(W_VALUES[x]).forEach((p, j) => {
      grad[x][j] += (p - (j === YS[i] ? 1 : 0)) / XS.length;
    });
  });
  return grad;
}

function lossGradient(): number[][] {
  return tf.tidy(() => {
    const xs = tf.tensor1d(XS, "int32");
    const ys = tf.tensor1d(YS, "int32");
    const [grad] = tf.grads((w: tf.Tensor) => bigramNetLoss(w as tf.Tensor2D, xs, ys, REGULARIZATION))([tf.tensor2d(W_VALUES)]);
    return grad;
  }).arraySync() as number[][];
}

test("the gradient of bigramNetLoss w.r.t. W equals (softmax - onehot) / N + 2 reg W / numel", () => {
  const grad = lossGradient();
  const byHand = gradientByHand();
  byHand.forEach((row, i) => row.forEach((g, j) => assertClose(grad[i][j], g, 1e-6, `dW[${i}][${j}]`)));
  // Row 2 has one input (x = 2), row 3 one, rows 0 and 1 two each: no row is left without a gradient.
  assert.ok(grad.every((row) => row.some((g) => Math.abs(g) > 1e-3)));
});

test("the gradient of bigramNetLoss agrees with central finite differences", () => {
  const grad = lossGradient();
  const xs = tf.tensor1d(XS, "int32");
  const ys = tf.tensor1d(YS, "int32");
  const lossAt = (i: number, j: number, delta: number) => {
    const shifted = W_VALUES.map((row, r) => row.map((w, c) => (r === i && c === j ? w + delta : w)));
    return scalar(tf.tidy(() => bigramNetLoss(tf.tensor2d(shifted), xs, ys, REGULARIZATION)));
  };
  const eps = 1e-2;
  for (const [i, j] of [[0, 0], [0, 1], [1, 2], [2, 0], [3, 3], [4, 4], [1, 4]]) {
    const numeric = (lossAt(i, j, eps) - lossAt(i, j, -eps)) / (2 * eps);
    const tolerance = 1e-3 + 1e-2 * Math.abs(grad[i][j]); // float32 loss, so loose
    assert.ok(Math.abs(numeric - grad[i][j]) <= tolerance, `dW[${i}][${j}]: analytic ${grad[i][j]}, numeric ${numeric}`);
  }
  tf.dispose([xs, ys]);
});

test("gradient descent lowers the loss at every step", () => {
  const W = tf.variable(tf.tensor2d(W_VALUES));
  const xs = tf.tensor1d(XS, "int32");
  const ys = tf.tensor1d(YS, "int32");
  const lossAndGradient = tf.valueAndGrad((w: tf.Tensor) => bigramNetLoss(w as tf.Tensor2D, xs, ys, 0.01));
  const losses: number[] = [];
  for (let step = 0; step < 15; step++) {
    const loss = tf.tidy(() => {
      const { value, grad } = lossAndGradient(W);
      W.assign(W.sub(grad.mul(1)));
      return value;
    });
    losses.push(scalar(loss));
  }
  losses.slice(1).forEach((loss, i) => assert.ok(loss < losses[i], `step ${i + 1}: ${loss} after ${losses[i]}`));
  assert.ok(losses[14] < 0.7 * losses[0], `losses ${losses.map((l) => l.toFixed(3))}`);
  tf.dispose([W, xs, ys]);
});

test("trained without regularization, the net arrives at the count model's probabilities", () => {
  // Lecture 02's point: softmax(W) row-normalised is the count matrix P, and the loss is its NLL.
  const words = ["ab", "ba", "a", "abba", "bab"];
  const tokenizer = namesTokenizer(words);
  const P = bigramProbabilities(bigramCounts(words, tokenizer), 1e-9);
  const countNll = averageNll(P, words, tokenizer);
  const { X: xsArray, Y: ysArray } = buildDataset(words, tokenizer, 1);
  const xs = tf.tensor1d(xsArray, "int32");
  const ys = tf.tensor1d(ysArray, "int32");
  const W = tf.variable(tf.zeros([3, 3]));
  const lossAndGradient = tf.valueAndGrad((w: tf.Tensor) => bigramNetLoss(w as tf.Tensor2D, xs, ys, 0));
  let loss = Infinity;
  for (let step = 0; step < 400; step++) {
    loss = scalar(tf.tidy(() => {
      const { value, grad } = lossAndGradient(W);
      W.assign(W.sub(grad.mul(10)));
      return value;
    }));
  }
  assertClose(loss, countNll, 1e-3, "trained loss vs the count model's NLL");
  const netProbabilities = tf.tidy(() => tf.softmax(W)).arraySync() as number[][];
  const counted = P.arraySync();
  // '.' never follows '.', so that cell only tends to 0: compare every cell loosely.
  netProbabilities.forEach((row, i) => row.forEach((p, j) => assert.ok(Math.abs(p - counted[i][j]) < 0.02, `P[${i}][${j}]: net ${p}, counts ${counted[i][j]}`)));
  tf.dispose([P, xs, ys, W]);
});

test("no tensor leaks: 20 training steps as in the notebook leave numTensors unchanged", () => {
  const W = tf.variable(tf.tensor2d(W_VALUES));
  const xs = tf.tensor1d(XS, "int32");
  const ys = tf.tensor1d(YS, "int32");
  const lossAndGradient = tf.valueAndGrad((weights: tf.Tensor) => bigramNetLoss(weights as tf.Tensor2D, xs, ys, 0.01));
  const learningRate = 50;
  const step = () => {
    const loss = tf.tidy(() => {
      const { value, grad } = lossAndGradient(W);
      W.assign(W.sub(grad.mul(learningRate)));
      return value;
    });
    loss.dataSync();
    loss.dispose();
  };
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) step();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([W, xs, ys]);
});
