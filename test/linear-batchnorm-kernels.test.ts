// Lecture 04's fused Linear -> BatchNorm1d -> Tanh block (lib/engine/linear-batchnorm-kernels.ts, used
// by the layers through the engine's plan, runLayers in lib/engine/layer-plan.ts): a training step of the deep net on WASM,
// where the blocks run fused, against the same step on the CPU backend, where every layer runs as
// ops: the loss, every parameter's gradient, the running statistics, each layer's `out`, and the
// Tanh layers' output gradients (the diagnostics' retainGrad). And it does run, and leaks nothing.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine, setFastPaths, type FastPaths } from "../lib/engine";
import { BatchNorm1d, Tanh, deepMLP } from "../lib/layers";
import { Generator } from "../lib/random";
import { assertClose, on } from "./backend-comparison";

before(async () => {
  await initEngine("wasm");
});

const CONFIG = { vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 40, nLayers: 3 };

function batch(seed: number, size = 32) {
  const g = new Generator(seed);
  const X = tf.tensor2d(Array.from({ length: size * 3 }, () => g.integer(27)), [size, 3], "int32");
  const Y = tf.tensor1d(Array.from({ length: size }, () => g.integer(27)), "int32");
  return { X, Y };
}

/** One training step's numbers: loss, gradients, running statistics, layer outputs, Tanh output gradients. */
function stepNumbers(config: typeof CONFIG = CONFIG, batchSize = 32): number[][] {
  const model = deepMLP(config, new Generator(2147483647));
  for (const layer of model.layers) if (layer instanceof Tanh) layer.retainGrad = true;
  const { X, Y } = batch(1, batchSize);
  const parameters = model.parameters();
  const { value, grads } = tf.valueAndGrads(() => model.forward(X, Y, { training: true }).loss!)(parameters);
  const norms = model.layers.filter((l): l is BatchNorm1d => l instanceof BatchNorm1d);
  const result = [
    [value.dataSync()[0]],
    ...grads.map((g) => Array.from(g.dataSync())),
    ...norms.flatMap((n) => [Array.from(n.runningMean.dataSync()), Array.from(n.runningVar.dataSync())]),
    ...model.layers.slice(2).map((l) => Array.from(l.out!.dataSync())),
    ...model.layers.filter((l) => l instanceof Tanh).map((l) => Array.from(l.outGrad!.dataSync())),
  ];
  model.dispose();
  return result;
}

/** Runs `body` with one of the engine's fast paths switched off, and switches it back on after. */
async function without<T>(fastPath: keyof FastPaths, body: () => Promise<T>): Promise<T> {
  const before = setFastPaths({ [fastPath]: false });
  try {
    return await body();
  } finally {
    setFastPaths(before);
  }
}

test("fused blocks on WASM: loss, gradients, running statistics, outputs and Tanh gradients match the CPU backend's ops", async () => {
  const cpu = await on("cpu", stepNumbers);
  const wasm = await on("wasm", stepNumbers);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], cpu[i], 2e-4, `result ${i}`);
});

test("fused blocks on WASM: the same numbers as the unfused WASM path", async () => {
  const fused = await on("wasm", stepNumbers);
  const unfused = await without("fusedBlocks", () => on("wasm", stepNumbers));
  for (let i = 0; i < unfused.length; i++) assertClose(fused[i], unfused[i], 1e-4, `result ${i}`);
});

// The SIMD kernels (simd-kernels.c) work on four columns and tiles of 4 x 8 at a time: odd sizes take
// their remainder paths (widths 13 and 6, a batch of 7, 30 inputs); width 3 runs layer by layer.
for (const [nHidden, batchSize] of [[13, 7], [6, 32], [3, 5]]) {
  test(`fused blocks, width ${nHidden}, batch ${batchSize}: the same numbers as the CPU backend's ops`, async () => {
    const config = { ...CONFIG, nHidden };
    const cpu = await on("cpu", () => stepNumbers(config, batchSize));
    const wasm = await on("wasm", () => stepNumbers(config, batchSize));
    for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], cpu[i], 2e-4, `result ${i}`);
  });
}

test("without the SIMD kernels (the threaded build's path: layer by layer): the same numbers as the CPU backend's ops", async () => {
  const cpu = await on("cpu", stepNumbers);
  const wasm = await without("simd", () => on("wasm", stepNumbers));
  for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], cpu[i], 2e-4, `result ${i}`);
});

test("the deep net's training step runs one fused kernel per block each way and leaks nothing", async () => {
  const model = deepMLP({ ...CONFIG, nLayers: 5, nHidden: 100 }, new Generator(3));
  const { X, Y } = batch(2);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads(() => model.forward(X, Y, { training: true }).loss!)(model.parameters());
      model.parameters().forEach((p, i) => p.assign(p.sub(grads[i].mul(0.1))));
      return value.dataSync()[0];
    });
  const { kernels } = await tf.profile(() => void step());
  const count = (name: string) => kernels.filter((k) => k.name === name).length;
  assert.equal(count("LinearBatchNormTrain"), 6, "five hidden blocks and the last Linear -> BatchNorm1d");
  assert.equal(count("LinearBatchNormTrainGrad"), 6);
  assert.equal(count("BatchMatMul") + count("BatchNormTrain") + count("Tanh"), 0, "no layer runs on its own");
  assert.equal(count("Identity"), 0, "saved tensors share their data (wasm-fixes.ts, 12)");
  const forwardAndBackward = kernels.length - count("Multiply") - count("Sub"); // the update here is the plain formula
  assert.ok(forwardAndBackward <= 25, `${forwardAndBackward} kernels per step before the update`);
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors, "tensors per step");
  // Evaluation mode runs the layers one by one, with the running statistics.
  const { kernels: evalKernels } = await tf.profile(() => tf.tidy(() => void model.forward(X, Y)));
  assert.ok(!evalKernels.some((k) => k.name === "LinearBatchNormTrain"), "evaluation is not fused");
  model.dispose();
  tf.dispose([X, Y]);
});
