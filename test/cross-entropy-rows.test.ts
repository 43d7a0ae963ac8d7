// Cross-entropy over more than 65,536 logits (lecture 02's whole data set, a whole split in evaluation) on
// our SIMD code (lib/engine/cross-entropy-rows.ts): the loss and its gradient against the plain formula on
// the CPU backend and against the float64 JS loop it replaces there (the same kernel with the SIMD module
// off); a row with an infinite logit, a bad target, and no tensor left behind.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine, setFastPaths } from "../lib/engine";
import { crossEntropy } from "../lib/losses";
import { Generator } from "../lib/random";
import { assertClose, on, randomTensor } from "./backend-comparison";

before(async () => {
  await initEngine("wasm");
});

const ROWS = 3_001; // 3,001 x 27 = 81,027 logits: above the 65,536 where the SIMD path starts
const CLASSES = 27;

function targets(rows: number, classes: number, seed: number): tf.Tensor1D {
  const g = new Generator(seed);
  return tf.tensor1d(Array.from({ length: rows }, () => g.integer(classes)), "int32");
}

/** [loss in evaluation, loss inside a gradient computation, d loss / d logits] (logits spread over +-12). */
function lossAndGradient(): number[][] {
  const logits = randomTensor([ROWS, CLASSES], 7, 4);
  const y = targets(ROWS, CLASSES, 8);
  const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => crossEntropy(x, y))([logits]);
  return [[crossEntropy(logits, y).dataSync()[0]], [value.dataSync()[0]], Array.from(grads[0].dataSync())];
}

test("cross-entropy over a whole data set on SIMD: loss and gradient match the plain formula on the CPU backend", async () => {
  const cpu = await on("cpu", lossAndGradient);
  const wasm = await on("wasm", lossAndGradient);
  ["loss (evaluation)", "loss (training)", "d logits"].forEach((what, i) => assertClose(wasm[i], cpu[i], i < 2 ? 1e-6 : 2e-7, what));
});

test("cross-entropy over a whole data set: the SIMD path agrees with the float64 JS loop it replaces", async () => {
  const simd = await on("wasm", lossAndGradient);
  const before = setFastPaths({ simd: false });
  try {
    const js = await on("wasm", lossAndGradient);
    ["loss (evaluation)", "loss (training)", "d logits"].forEach((what, i) => assertClose(simd[i], js[i], i < 2 ? 1e-6 : 2e-7, what));
  } finally {
    setFastPaths(before);
  }
});

test("cross-entropy over a whole data set: a row with an infinite logit gives a non-finite loss, not a wrong finite one", async () => {
  const loss = await on("wasm", () => {
    const logits = randomTensor([ROWS, CLASSES], 9).bufferSync();
    logits.set(Infinity, 5, 3);
    return crossEntropy(logits.toTensor(), targets(ROWS, CLASSES, 10)).dataSync()[0];
  });
  assert.ok(!Number.isFinite(loss), `loss ${loss}`);
});

test("cross-entropy over a whole data set: a target outside the classes is a clear error, and nothing leaks", async () => {
  await on("wasm", () => {
    const logits = randomTensor([ROWS, CLASSES], 11);
    const bad = tf.tensor1d(Array.from({ length: ROWS }, (_, i) => (i === ROWS - 1 ? CLASSES : 0)), "int32");
    const count = tf.memory().numTensors;
    assert.throws(() => crossEntropy(logits, bad), /target 27 is not a class index in \[0, 26\]/);
    tf.tidy(() => void tf.grads((x: tf.Tensor) => crossEntropy(x, targets(ROWS, CLASSES, 12)))([logits]));
    assert.equal(tf.memory().numTensors, count);
    return [];
  });
});
