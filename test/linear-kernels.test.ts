// A Linear layer with a bias in training as one kernel each way (lib/engine/linear-kernels.ts, run by
// the engine's plan, runLayers): a training step of a net of such layers (lecture 04's deep net without
// BatchNorm) gives the same bits as its layers' own ops on WASM (matmul, Add, and their gradients),
// and the CPU backend's numbers; the step runs the kernel, and leaks nothing.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine";
import { deepMLP, type SequentialLanguageModel } from "../lib/layers";
import { crossEntropy } from "../lib/losses";
import { Generator } from "../lib/random";
import { assertClose, on } from "./backend-comparison";

before(async () => {
  await initEngine("wasm");
});

const CONFIG = { vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 30, nLayers: 2, batchNorm: false };

function batch(size = 32) {
  const g = new Generator(7);
  const X = tf.tensor2d(Array.from({ length: size * 3 }, () => g.integer(27)), [size, 3], "int32");
  const Y = tf.tensor1d(Array.from({ length: size }, () => g.integer(27)), "int32");
  return { X, Y };
}

/** The loss, every gradient and every layer's `out` of one training step, through the plan (model.forward) or layer by layer. */
function stepNumbers(path: "plan" | "layers"): number[][] {
  const model: SequentialLanguageModel = deepMLP(CONFIG, new Generator(5));
  const { X, Y } = batch();
  const loss = () => {
    if (path === "plan") return model.forward(X, Y, { training: true }).loss!;
    const logits = model.layers.reduce((h: tf.Tensor, layer) => layer.forward(h, { training: true }), X);
    return crossEntropy(logits, Y);
  };
  const { value, grads } = tf.valueAndGrads(loss)(model.parameters());
  const result = [[value.dataSync()[0]], ...grads.map((g) => Array.from(g.dataSync())), ...model.layers.slice(1).map((l) => Array.from(l.out!.dataSync()))];
  model.dispose();
  return result;
}

test("Linear with a bias as one kernel each way: the same bits as its ops on WASM, the CPU backend's numbers", async () => {
  const fused = await on("wasm", () => stepNumbers("plan"));
  const layers = await on("wasm", () => stepNumbers("layers"));
  const cpu = await on("cpu", () => stepNumbers("plan"));
  assert.equal(fused.length, layers.length);
  for (let i = 0; i < fused.length; i++) assert.deepEqual(fused[i], layers[i], `result ${i}: the same bits as the layer's ops`);
  for (let i = 0; i < fused.length; i++) assertClose(fused[i], cpu[i], 1e-4, `result ${i} against the CPU backend`);
});

test("the step runs LinearBias each way in place of the matmul and Add, and leaks nothing", async () => {
  const model = deepMLP(CONFIG, new Generator(5));
  const { X, Y } = batch();
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => model.forward(X, Y, { training: true }).loss! as tf.Scalar, model.parameters());
      for (const p of model.parameters()) p.assign(p.sub(grads[p.name].mul(0.1)));
    });
  const { kernels } = await tf.profile(() => step());
  const count = (name: string) => kernels.filter((k) => k.name === name).length;
  assert.equal(count("LinearBias"), 3, "three Linear layers forward");
  assert.equal(count("LinearBiasGrad"), 3, "and backward");
  assert.equal(count("BatchMatMul") + count("Add") + count("Sum") + count("MatMulGradients"), 0, "no matmul or Add of their own");
  const tensors = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, tensors, "tensors per step");
  // Evaluation runs the layer's own ops.
  const { kernels: evalKernels } = await tf.profile(() => tf.tidy(() => void model.forward(X, Y)));
  assert.ok(!evalKernels.some((k) => k.name === "LinearBias"), "evaluation is not fused");
  model.dispose();
  tf.dispose([X, Y]);
});
