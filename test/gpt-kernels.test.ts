// Lecture 05's fused kernels (lib/engine/gpt-kernels.ts) against the plain formulas: LayerNorm and
// attention's masked softmax with their gradients on the CPU backend (tolerance), on our SIMD code and
// on the JS loops; clipping's sum of
// squares and scaling, AdamW over all parameters and ReLU's gradient with the same bits as the plain
// path on WASM (what keeps notebook 05's numbers); and no tensor left behind.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { fusedMaskedSoftmax, initEngine, setFastPaths, type FastPaths } from "../lib/engine";
import { LayerNorm, causalMask } from "../lib/gpt";
import { AdamW, ClipGradNorm } from "../lib/optim";
import { assertClose, on, randomTensor } from "./backend-comparison";

before(async () => {
  await initEngine("wasm");
});

async function withFastPaths<T>(changes: Partial<FastPaths>, body: () => Promise<T>): Promise<T> {
  const before = setFastPaths(changes);
  try {
    return await body();
  } finally {
    setFastPaths(before);
  }
}

/** LayerNorm's output and the gradients of sum(y * w) for x, gamma and beta (gamma and beta not at 1 and 0). */
function layerNormNumbers(shape: number[]): number[][] {
  const cols = shape[shape.length - 1];
  const layer = new LayerNorm(cols);
  layer.gamma.assign(randomTensor([cols], 2, 0.5).add(1));
  layer.beta.assign(randomTensor([cols], 3, 0.1));
  const x = randomTensor(shape, 1, 3).add(0.5);
  const w = randomTensor(shape, 4);
  const { value, grads } = tf.valueAndGrads((input: tf.Tensor) => layer.forward(input).mul(w).sum())([x]);
  const { grads: parameterGrads } = tf.valueAndGrads(() => layer.forward(x).mul(w).sum())([layer.gamma, layer.beta] as tf.Tensor[]);
  const numbers = [[value.dataSync()[0]], Array.from(layer.forward(x).dataSync()), ...[...grads, ...parameterGrads].map((g) => Array.from(g.dataSync()))];
  tf.dispose([layer.gamma, layer.beta]);
  return numbers;
}

for (const simd of [true, false]) {
  test(`LayerNorm as one kernel each way (${simd ? "SIMD" : "JS loops"}): output and gradients match the plain formula on the CPU backend`, async () => {
    for (const shape of [[3, 5, 16], [7, 128], [4, 6], [2, 1, 3]]) {
      const cpu = await on("cpu", () => layerNormNumbers(shape));
      const wasm = await withFastPaths({ simd }, () => on("wasm", () => layerNormNumbers(shape)));
      const names = ["sum", "y", "dx", "dgamma", "dbeta"];
      cpu.forEach((expected, i) => assertClose(wasm[i], expected, 2e-5, `[${shape}] ${names[i]}`));
    }
  });
}

test("LayerNorm: the fused kernel runs (one kernel each way) and leaves no tensor behind", async () => {
  const layer = new LayerNorm(8);
  const x = randomTensor([4, 8], 5);
  const count = tf.memory().numTensors;
  const profile = await tf.profile(() => tf.tidy(() => void tf.grads((input: tf.Tensor) => layer.forward(input).sum())([x])));
  assert.deepEqual(profile.kernels.map((k) => k.name).filter((name) => name.startsWith("LayerNorm")), ["LayerNormRows", "LayerNormRowsGrad"]);
  assert.equal(tf.memory().numTensors, count);
  tf.dispose([x, layer.gamma, layer.beta]);
});

/** Three steps of ClipGradNorm(AdamW) on two matrices and a vector (clipping on at every step): the parameters after each. */
function clippedAdamWNumbers(): number[][] {
  const parameters = [tf.variable(randomTensor([37, 23], 10)), tf.variable(randomTensor([23], 11)), tf.variable(randomTensor([5, 3, 4], 12))];
  const optimizer = new ClipGradNorm(new AdamW({ betas: [0.9, 0.99], weightDecay: 0.1 }), 1);
  const numbers: number[][] = [];
  for (let step = 0; step < 3; step++) {
    const grads = parameters.map((p, i) => randomTensor(p.shape, 20 + 3 * step + i, 2));
    optimizer.step(parameters, grads, 1e-2 * (step + 1));
    numbers.push([optimizer.lastNorm], ...parameters.map((p) => Array.from(p.dataSync())));
    tf.dispose(grads);
  }
  optimizer.dispose();
  tf.dispose(parameters);
  return numbers;
}

test("ClipGradNorm + AdamW: the fused kernels (SIMD and JS) give the plain formulas' bits on WASM, and the CPU backend's numbers", async () => {
  const plain = await withFastPaths({ gptKernels: false }, () => on("wasm", clippedAdamWNumbers));
  const cpu = await on("cpu", clippedAdamWNumbers);
  for (const simd of [true, false]) {
    const fused = await withFastPaths({ simd }, () => on("wasm", clippedAdamWNumbers));
    // The norm and the clipped gradients: the same bits. AdamW: the plain formula's float32 ops differ
    // from the kernel's float64 (rounded once), so within float rounding of the plain path.
    fused.forEach((values, i) => (i % 4 === 0 ? assert.deepEqual(values, plain[i], `norm, step ${i / 4}`) : assertClose(values, plain[i], 1e-6, `result ${i}`)));
    fused.forEach((values, i) => assertClose(values, cpu[i], 1e-5, `result ${i} against the CPU backend`));
  }
});

test("AdamW over all parameters: our SIMD loop gives the JS loop's bits", async () => {
  const simd = await on("wasm", clippedAdamWNumbers);
  const js = await withFastPaths({ simd: false }, () => on("wasm", clippedAdamWNumbers));
  simd.forEach((values, i) => assert.deepEqual(values, js[i], `result ${i}`));
});

test("ReLU's gradient on SIMD lanes gives the JS loop's bits (zeros keep dy's sign, NaN stays NaN)", async () => {
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-38, -1e-38, 3];
  const gradient = () => {
    const x = tf.concat([randomTensor([61], 30), tf.tensor1d(special)]);
    const dy = tf.concat([randomTensor([61], 31), tf.tensor1d(special.map((_, i) => (i % 2 ? -1.5 : 2)))]);
    return Array.from(tf.grad((input: tf.Tensor) => tf.relu(input).mul(dy).sum())(x).dataSync());
  };
  const simd = await on("wasm", gradient);
  const js = await withFastPaths({ simd: false }, () => on("wasm", gradient));
  assert.equal(simd.length, js.length);
  simd.forEach((value, i) => assert.ok(Object.is(value, js[i]), `element ${i}: ${value} vs ${js[i]}`));
  const cpu = await on("cpu", gradient);
  assertClose(simd, cpu, 0, "against the CPU backend");
});

/** Attention's weights softmax(scores * scale + mask) with the causal mask, and the gradient of sum(weights * w) for the scores. */
function maskedSoftmaxNumbers(shape: number[]): number[][] {
  const T = shape[shape.length - 1];
  const scores = randomTensor(shape, 40, 4);
  const w = randomTensor(shape, 41);
  const mask = causalMask(T);
  const scale = 0.35;
  const weights = (s: tf.Tensor) => fusedMaskedSoftmax(s, scale, mask) ?? tf.softmax(s.mul(scale).add(mask));
  const { grads } = tf.valueAndGrads((s: tf.Tensor) => weights(s).mul(w).sum())([scores]);
  return [Array.from(weights(scores).dataSync()), Array.from(grads[0].dataSync())];
}

test("attention's masked softmax as one kernel each way (SIMD): weights and gradient match the plain formula on the CPU backend", async () => {
  for (const shape of [[2, 3, 8, 8], [2, 5, 5], [1, 1]]) {
    const cpu = await on("cpu", () => maskedSoftmaxNumbers(shape));
    const wasm = await on("wasm", () => maskedSoftmaxNumbers(shape));
    cpu.forEach((expected, i) => assertClose(wasm[i], expected, 1e-6, `[${shape}] ${["weights", "d scores"][i]}`));
  }
});

test("the masked softmax kernels' JS loops (where our SIMD code cannot run) give the same numbers", async () => {
  const shape = [3, 2, 7, 7];
  const simd = await on("wasm", () => maskedSoftmaxNumbers(shape));
  const runKernel = (name: string, inputs: tf.NamedTensorMap) => tf.tidy(() => Array.from((tf.engine().runKernel(name, inputs, { scale: 0.35 }) as tf.Tensor).dataSync()));
  const js = await withFastPaths({ simd: false }, () =>
    on("wasm", () => {
      const [scores, w] = [randomTensor(shape, 40, 4), randomTensor(shape, 41)];
      const y = tf.tensor(runKernel("MaskedSoftmax", { scores, mask: causalMask(7) }), shape);
      // d/d scores of sum(y * w): dy = w
      return [Array.from(y.dataSync()), runKernel("MaskedSoftmaxGrad", { y, dy: w })];
    }),
  );
  simd.forEach((values, i) => assertClose(js[i], values, 1e-6, ["weights", "d scores"][i]));
});
