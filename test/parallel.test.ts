// trainInWorkers: jobs trained in worker threads give the same bits as the same jobs trained one after
// another in this thread (lecture 03's MLP and lecture 07's models) and as `train` called directly (lecture
// 04's rows and their log10 loss curves), come back in the jobs' order, a
// worker's error reaches the caller, a job's weights come back into the same model, and nothing leaks.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine } from "../lib/engine/engine";
import type { Dataset } from "../lib/dataset";
import { Generator } from "../lib/random";
import * as tf from "@tensorflow/tfjs";
import { buildJobModel, jobGenerators, restoreJobModel, runJob, scheduleFunction, type TrainJob, type TrainJobResult } from "../lib/runtime/parallel-jobs";
import { estimateLoss } from "../lib/evaluate";
import { MLPLanguageModel } from "../lib/mlp";
import { randomBatches, train } from "../lib/train";
import { SequentialLanguageModel } from "../lib/layers";
import * as os from "node:os";
import { freeCores, trainInWorkers } from "../lib/runtime/parallel";

before(async () => {
  await initEngine({ engine: "wasm", threads: 1 });
});

/** n random contexts of `blockSize` tokens out of 27, each followed by a random token. */
function randomDataset(n: number, seed: number, blockSize = 3): Dataset {
  const g = new Generator(seed);
  const X = Int32Array.from({ length: n * blockSize }, () => g.integer(27));
  const Y = Int32Array.from({ length: n }, () => g.integer(27));
  return { X, Y, blockSize };
}

const trainSet = randomDataset(500, 1);
const valSet = randomDataset(200, 2);
const config = { vocabSize: 27, blockSize: 3, nEmbd: 4, nHidden: 16 };
const jobs: TrainJob[] = [
  { name: "default init", model: { kind: "mlp", config }, seed: 2147483647, steps: 60, batchSize: 8,
    learningRate: { rates: [0.1, 0.01], until: [30] }, train: trainSet, evaluate: { train: trainSet, val: valSet } },
  { name: "W2 x 0.01", model: { kind: "mlp", config, init: { W2: 0.01, b2: 0 } }, seed: 42, steps: 50, batchSize: 8,
    learningRate: { rates: [0.2, 0.05, 0.01], until: [20, 40] }, train: trainSet, evaluate: { val: valSet } },
  { name: "other seed", model: { kind: "mlp", config }, seed: 7, steps: 40, batchSize: 16,
    learningRate: { rates: [0.1], until: [] }, train: trainSet, evaluate: { val: valSet } },
];

test("scheduleFunction steps down at each boundary", () => {
  const lr = scheduleFunction({ rates: [0.1, 0.01, 0.001], until: [10, 20] });
  assert.deepEqual([0, 9, 10, 19, 20, 1000].map(lr), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
  assert.throws(() => scheduleFunction({ rates: [0.1], until: [10] }), /one more rate/);
});

test("two workers give the same bits as a serial run, in the jobs' order", async () => {
  const serial: TrainJobResult[] = [];
  for (const job of jobs) serial.push(await runJob(job));
  const parallel = await trainInWorkers(jobs, { workers: 2, progress: false });
  assert.equal(parallel.stopped, false);
  assert.equal(parallel.workers, 2);
  parallel.results.forEach((result, k) => {
    assert.ok(result, `job ${k} has a result`);
    assert.equal(result.name, jobs[k].name);
    assert.equal(result.losses.length, jobs[k].steps);
    assert.deepEqual(result.losses, serial[k].losses, `${jobs[k].name}: every step's loss`);
    assert.deepEqual(result.evaluation, serial[k].evaluation, `${jobs[k].name}: the losses after training`);
  });
  // A real comparison: different settings give different runs.
  assert.notDeepEqual(parallel.results[0]!.losses.slice(0, 40), parallel.results[2]!.losses);
});

test("a job seeded { weights, batches } in a worker is notebook 03's own run: Generator(weights) for the model, Generator(batches) for the batches", async () => {
  const config4 = { vocabSize: 27, blockSize: 4, nEmbd: 5, nHidden: 12 };
  const data = randomDataset(300, 5, 4);
  const job: TrainJob = {
    name: "better", model: { kind: "mlp", config: config4, init: { W2: 0.1, b2: 0 } }, seed: { weights: 2147483647, batches: 1 },
    steps: 40, batchSize: 16, learningRate: { rates: [0.1, 0.01, 0.001], until: [20, 30] },
    train: data, evaluate: { train: data }, keepState: true,
  };
  // The notebook's cell as it was written before: the model and its batches from two Generators, trained here.
  const model = new MLPLanguageModel(config4, new Generator(2147483647), { W2: 0.1, b2: 0 });
  const run = await train(model, randomBatches(data, 16, new Generator(1)), {
    steps: 40, learningRate: (step) => (step < 20 ? 0.1 : step < 30 ? 0.01 : 0.001), progress: false,
  });
  const [result] = (await trainInWorkers([job], { workers: 1, progress: false })).results;
  assert.ok(result);
  assert.deepEqual(result.losses, run.losses, "every step's loss");
  assert.deepEqual(result.evaluation, estimateLoss(model, { train: data }), "the loss after training");
  assert.deepEqual(result.state, model.parameters().map((p) => p.dataSync() as Float32Array), "the trained weights");
  const restored = restoreJobModel(job, result);
  assert.deepEqual(estimateLoss(restored, { train: data }), result.evaluation);
  // A number seed is one TorchGenerator for both: another run.
  const torchSeeded = await runJob({ ...job, seed: 2147483647 });
  assert.notDeepEqual(torchSeeded.losses, run.losses);
  tf.dispose([...model.parameters(), ...restored.parameters()]);
});

test("a job in a worker is the run `train` gives in this thread: every loss, the log10 curve, the losses after", async () => {
  // Lecture 04 trains its rows either way: with `train` on a model and generator of its own, or as jobs.
  const job = jobs[1];
  const g = jobGenerators(job.seed).weights;   // a number seed: one TorchGenerator for the weights and the batches
  const model = new MLPLanguageModel(config, g, { W2: 0.01, b2: 0 });
  const run = await train(model, randomBatches(trainSet, job.batchSize, g), {
    steps: job.steps, learningRate: (step) => (step < 20 ? 0.2 : step < 40 ? 0.05 : 0.01), progress: false,
  });
  const evaluation = estimateLoss(model, job.evaluate);
  tf.dispose(model.parameters());
  const [result] = (await trainInWorkers([job], { workers: 1, progress: false })).results;
  assert.deepEqual(result!.losses, run.losses, "every step's loss");
  assert.deepEqual(result!.losses.map(Math.log10), run.log10Losses, "the log10 curve, from the job's losses");
  assert.deepEqual(result!.evaluation, evaluation, "the losses after training");
});

test("an error in a worker ends the run with that error", async () => {
  const bad: TrainJob = { ...jobs[0], name: "bad config", model: { kind: "mlp", config: { ...config, nHidden: 0 } } };
  await assert.rejects(trainInWorkers([jobs[2], bad], { workers: 2, progress: false }), /job "bad config" failed in its worker: .*nHidden must be an integer/);
});

test("the default worker count is between 1 and the number of cores", async () => {
  const free = await freeCores();
  assert.ok(Number.isInteger(free) && free >= 1 && free <= os.cpus().length, `freeCores() = ${free}`);
});

// Lecture 07's rows: the flat baseline, the hierarchical model with the BatchNorm bug and fixed.
const train8 = randomDataset(400, 3, 8);
const val8 = randomDataset(100, 4, 8);
const small8 = { vocabSize: 27, blockSize: 8, nEmbd: 4, nHidden: 12 };
const lecture07Job = (name: string, model: TrainJob["model"], keepState = false): TrainJob => ({
  name, model, seed: 42, steps: 40, batchSize: 8, learningRate: { rates: [0.1, 0.01], until: [30] },
  train: train8, evaluate: { train: train8, val: val8 }, keepState,
});
const lecture07Jobs = [
  lecture07Job("flat", { kind: "flat", config: small8 }),
  lecture07Job("bug", { kind: "wavenet", config: small8, batchNorm: "bug" }),
  lecture07Job("fixed", { kind: "wavenet", config: small8 }, true),
];

test("lecture 07's jobs (flat, BatchNorm bug, fixed) give the same bits in workers as serially, and leak no tensors", async () => {
  for (const job of lecture07Jobs) {
    const before = tf.memory().numTensors;
    const model = buildJobModel(job.model, jobGenerators(job.seed).weights);
    assert.ok(model instanceof SequentialLanguageModel);
    model.dispose();
    assert.equal(tf.memory().numTensors - before, 0, `${job.name}: building and disposing the model leaves no tensor`);
  }
  const serial: TrainJobResult[] = [];
  for (const job of lecture07Jobs) {
    const before = tf.memory().numTensors;
    serial.push(await runJob(job));
    assert.equal(tf.memory().numTensors - before, 0, `${job.name}: runJob frees its model, buffers and outputs included`);
  }
  const parallel = await trainInWorkers(lecture07Jobs, { workers: 2, progress: false });
  parallel.results.forEach((result, k) => {
    assert.ok(result, `job ${k} has a result`);
    assert.deepEqual(result.losses, serial[k].losses, `${lecture07Jobs[k].name}: every step's loss`);
    assert.deepEqual(result.evaluation, serial[k].evaluation, `${lecture07Jobs[k].name}: the losses after training`);
    assert.equal(result.parameters, serial[k].parameters);
  });
  assert.deepEqual(parallel.results[2]!.state, serial[2].state, "the fixed model's weights and buffers");
  assert.equal(parallel.results[0]!.state, undefined, "no weights without keepState");
  // The bug is a different model from the fix (per-position statistics), with the same parameters.
  assert.equal(serial[1].parameters, serial[2].parameters);
  assert.notDeepEqual(serial[1].losses, serial[2].losses);
});

test("restoreJobModel puts a job's trained weights and buffers back: the same losses after training", async () => {
  const job = lecture07Jobs[2];
  const [result] = (await trainInWorkers([job], { workers: 1, progress: false })).results;
  const model = restoreJobModel(job, result!);
  assert.deepEqual(estimateLoss(model, job.evaluate), result!.evaluation, "evaluation mode reads the running statistics too");
  assert.ok(model instanceof SequentialLanguageModel);
  model.dispose();
  assert.throws(() => restoreJobModel(lecture07Jobs[0], result!), /do not fit job "flat"/);
  assert.throws(() => restoreJobModel(job, { ...result!, state: undefined }), /keepState: true/);
});
