// Lecture 05's ladder as a job of trainInWorkers: each rung has the parameters counted by hand, a
// job gives the same bits as notebook 05's loop written out (train with AdamW and estimateLoss from
// Generator draws), the same bits in a worker as in this thread, and leaves no tensor behind.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { estimateLoss } from "../lib/evaluate";
import { LADDER_RUNGS, ladderModel, type LadderConfig, type LadderRung } from "../lib/gpt-ladder";
import { AdamW } from "../lib/optim";
import { Generator } from "../lib/random";
import { trainInWorkers } from "../lib/runtime/parallel";
import type { TrainJobResult } from "../lib/runtime/parallel-jobs";
import { runTextJob, type TextTrainJob } from "../lib/runtime/text-jobs";
import { textBatches } from "../lib/text-batches";
import { train } from "../lib/train";

before(async () => {
  await initEngine({ engine: "wasm", threads: 1 });
});

const config: LadderConfig = { vocabSize: 11, blockSize: 6, nEmbd: 8, nHead: 2, nLayer: 2 };
const tokens = (n: number, seed: number) => {
  const g = new Generator(seed);
  return Int32Array.from({ length: n }, () => g.integer(config.vocabSize));
};
const trainTokens = tokens(2_000, 1);
const valTokens = tokens(500, 2);

const job = (rung: LadderRung): TextTrainJob => ({
  name: rung, model: { kind: "ladder", rung: rung, config: config, seeds: { body: 1337, embeddings: 1338 } },
  steps: 20, batchSize: 4, learningRate: { rates: [1e-2], until: [] }, train: trainTokens, batchSeed: 2024,
  estimate: { splits: { train: trainTokens, val: valTokens }, seed: 7, batches: 3, every: 10 },
});

test("each rung has the parameters counted by hand", () => {
  const { vocabSize: V, blockSize: T, nEmbd: C, nLayer } = config;
  const outside = V * C + T * C + C * V + V; // embeddings, lm_head with its bias
  const attention = 3 * C * C; // key, query, value, no biases
  const feedForward = C * 4 * C + 4 * C + 4 * C * C + C; // C -> 4C -> C, with biases
  const block = attention + C * C + C + feedForward; // + the attention's projection
  const expected: Record<LadderRung, number> = {
    bigram: 0, head: attention, heads: attention, "feed-forward": attention + C * C + C,
    blocks: nLayer * block, layernorm: nLayer * (block + 4 * C) + 2 * C,
  };
  for (const rung of LADDER_RUNGS) {
    const before = tf.memory().numTensors;
    const model = ladderModel(rung, config, new Generator(1), new Generator(2));
    const count = model.parameters().reduce((total, p) => total + p.size, 0);
    assert.equal(count, outside + expected[rung], rung);
    model.dispose();
    assert.equal(tf.memory().numTensors, before, `${rung}: dispose frees every tensor (masks included)`);
  }
  assert.throws(() => ladderModel("gpt" as LadderRung, config, new Generator(1), new Generator(2)), /unknown rung "gpt"; use one of bigram/);
});

test("a job gives the same bits as the notebook's loop written out", async () => {
  const rung = "heads";
  const model = ladderModel(rung, config, new Generator(1337), new Generator(1338));
  const estimateGenerator = new Generator(7);
  const splits = {
    train: textBatches(trainTokens, config.blockSize, 4, estimateGenerator),
    val: textBatches(valTokens, config.blockSize, 4, estimateGenerator),
  };
  const byHand = await train(model, textBatches(trainTokens, config.blockSize, 4, new Generator(2024)), {
    steps: 20, learningRate: 1e-2, optimizer: new AdamW(), progress: false,
    evalEvery: 10, evaluate: () => estimateLoss(model, splits, 3),
  });
  model.dispose();
  const result = await runTextJob(job(rung));
  assert.deepEqual(result.losses, byHand.losses);
  assert.deepEqual(result.estimates, byHand.evalLosses);
  assert.deepEqual(result.evaluation, byHand.evalLosses.at(-1)!.losses);
});

test("text jobs give the same bits in two workers as serially, and leak no tensors", async () => {
  const jobs = (["layernorm", "bigram", "feed-forward", "blocks"] as const).map(job);
  const serial: TrainJobResult[] = [];
  for (const j of jobs) {
    const before = tf.memory().numTensors;
    serial.push(await runTextJob(j));
    assert.equal(tf.memory().numTensors, before, `${j.name}: runTextJob frees its model`);
  }
  const parallel = await trainInWorkers(jobs, { workers: 2, progress: false });
  assert.equal(parallel.stopped, false);
  parallel.results.forEach((result, k) => {
    assert.ok(result, `job ${k} has a result`);
    assert.equal(result.name, jobs[k].name);
    assert.deepEqual(result.losses, serial[k].losses, `${jobs[k].name}: every step's loss`);
    assert.deepEqual(result.estimates, serial[k].estimates, `${jobs[k].name}: every estimate`);
    assert.equal(result.parameters, serial[k].parameters);
    assert.equal(result.estimates!.length, 2);
  });
  // Different rungs train differently.
  assert.notDeepEqual(serial[0].losses, serial[1].losses);
});

test("a job whose estimate never comes says so", async () => {
  await assert.rejects(runTextJob({ ...job("bigram"), steps: 5 }), /made no estimate: give estimate.every <= steps \(5\)/);
});
