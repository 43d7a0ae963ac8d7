// Lecture 03's library: the data set of contexts, the train/dev/test split, the MLP language model,
// and the training loop, evaluation, sampling and learning-rate search written once for any model.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../lib/engine/engine";
import { buildDataset, datasetTensors, sampleBatch, splitWords } from "../lib/dataset";
import { evaluate, estimateLoss } from "../lib/evaluate";
import { MLPLanguageModel, type MLPConfig } from "../lib/mlp";
import { countParameters } from "../lib/model";
import { Generator } from "../lib/random";
import { generate, sampleNames } from "../lib/generate";
import type { LanguageModel } from "../lib/model";
import { SGD } from "../lib/optim";
import type { ProgressInfo } from "../lib/display/progress";
import { namesTokenizer } from "../lib/tokenizer";
import { findLearningRate, NonFiniteLossError, randomBatches, train, trainStep, type StepInfo } from "../lib/train";

before(async () => {
  await initEngine("wasm");
});

const WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn"];
const tokenizer = namesTokenizer(WORDS);
const small = (overrides: Partial<MLPConfig> = {}): MLPConfig => ({ vocabSize: tokenizer.vocabSize, blockSize: 3, nEmbd: 4, nHidden: 32, ...overrides });
const quiet = { progress: false };

/** The rows of a data set as readable strings: "..e -> m". */
function pairs(data: { X: Int32Array; Y: Int32Array; blockSize: number }, tok = tokenizer): string[] {
  return Array.from(data.Y, (y, i) => `${tok.decode(data.X.subarray(i * data.blockSize, (i + 1) * data.blockSize))} -> ${tok.decode([y])}`);
}

// ---------------------------------------------------------------------------------------------------
// Data set and split

test("buildDataset: contexts padded with '.', checked by hand for three words", () => {
  const words = ["emma", "ava", "x"];
  const tok = namesTokenizer(words); // . a e m v x -> 0..5
  const data = buildDataset(words, tok, 3);
  assert.equal(data.blockSize, 3);
  assert.equal(data.Y.length, 5 + 4 + 2); // one example per letter, plus the closing '.'
  assert.equal(data.X.length, 11 * 3);
  assert.deepEqual(pairs(data, tok), [
    "... -> e", "..e -> m", ".em -> m", "emm -> a", "mma -> .",
    "... -> a", "..a -> v", ".av -> a", "ava -> .",
    "... -> x", "..x -> .",
  ]);
  assert.deepEqual(Array.from(data.X.subarray(0, 6)), [0, 0, 0, 0, 0, 2]);
  assert.deepEqual(Array.from(data.Y), [2, 3, 3, 1, 0, 1, 4, 1, 0, 5, 0]);
});

test("buildDataset: blockSize 1 gives the bigram pairs; a bad blockSize is a clear error", () => {
  assert.deepEqual(pairs(buildDataset(["ava"], tokenizer, 1)), [". -> a", "a -> v", "v -> a", "a -> ."]);
  for (const bad of [0, -1, 1.5, NaN]) {
    assert.throws(() => buildDataset(WORDS, tokenizer, bad), /blockSize must be an integer >= 1/);
  }
});

test("datasetTensors and sampleBatch give int32 tensors of the right shapes", () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const { X, Y } = datasetTensors(data, 2, 7);
  assert.deepEqual([X.shape, X.dtype, Y.shape, Y.dtype], [[5, 3], "int32", [5], "int32"]);
  assert.deepEqual(Array.from(X.dataSync()), Array.from(data.X.subarray(6, 21)));
  const batch = sampleBatch(data, 8, new Generator(1));
  assert.deepEqual([batch.X.shape, batch.Y.shape], [[8, 3], [8]]);
  tf.dispose([X, Y, batch.X, batch.Y]);
});

test("splitWords: 80/10/10 of a shuffled copy, the same for the same seed", () => {
  const words = Array.from({ length: 100 }, (_, i) => `w${i}`);
  const original = [...words];
  const a = splitWords(words, new Generator(42));
  const b = splitWords(words, new Generator(42));
  const c = splitWords(words, new Generator(43));
  assert.deepEqual(words, original, "the input is not shuffled in place");
  assert.deepEqual([a.train.length, a.dev.length, a.test.length], [80, 10, 10]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.train, c.train);
  assert.deepEqual([...a.train, ...a.dev, ...a.test].sort(), [...words].sort(), "every word in exactly one split");
  assert.notDeepEqual(a.train, words.slice(0, 80), "shuffled");
  assert.throws(() => splitWords(words, new Generator(1), [0.5, 0.2, 0.2]), /add up to 1/);
});

// ---------------------------------------------------------------------------------------------------
// The model

test("the lecture's MLP has 11,897 parameters", () => {
  const model = new MLPLanguageModel({ vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 200 }, new Generator(2147483647));
  assert.equal(model.numParameters(), 11_897);
  assert.equal(countParameters(model), 11_897);
  assert.deepEqual(model.parameters().map((p) => p.shape), [[27, 10], [30, 200], [200], [200, 27], [27]]);
  model.dispose();
});

test("bad hyperparameters are clear errors", () => {
  const g = new Generator(1);
  assert.throws(() => new MLPLanguageModel(small({ blockSize: 0 }), g), /blockSize must be an integer >= 1 \(got 0\)/);
  assert.throws(() => new MLPLanguageModel(small({ nEmbd: 0 }), g), /nEmbd must be an integer >= 1/);
  assert.throws(() => new MLPLanguageModel(small({ nHidden: 2.5 }), g), /nHidden must be an integer >= 1/);
  assert.throws(() => new MLPLanguageModel(small({ vocabSize: -3 }), g), /vocabSize must be an integer >= 1/);
  assert.throws(() => new MLPLanguageModel(small(), g, { W2: NaN }), /init scale of W2/);
});

test("forward: logits [B, vocab], a loss only with targets, clear errors for bad input", () => {
  const model = new MLPLanguageModel(small(), new Generator(1));
  const { X, Y } = datasetTensors(buildDataset(WORDS, tokenizer, 3), 0, 5);
  const before = tf.memory().numTensors;
  const withLoss = model.forward(X, Y);
  const without = model.forward(X);
  assert.deepEqual(withLoss.logits.shape, [5, tokenizer.vocabSize]);
  assert.equal(withLoss.loss?.rank, 0);
  assert.equal(without.loss, undefined);
  tf.dispose([withLoss.logits, withLoss.loss!, without.logits]);
  assert.equal(tf.memory().numTensors, before, "forward keeps no intermediate tensors");
  const wrongWidth = tf.zeros([5, 4], "int32");
  const wrongType = tf.zeros([5, 3]);
  assert.throws(() => model.forward(wrongWidth), /idx must be int32 of shape \[B, 3\]/);
  assert.throws(() => model.forward(wrongType), /idx must be int32/);
  tf.dispose([X, Y, wrongWidth, wrongType]);
  model.dispose();
});

test("an untrained model with small output weights (W2 * 0.01, b2 * 0) scores about ln(27)", () => {
  const words = ["emma", "olivia", "ava", "isabella", "sophia", "zoe", "quinn", "jax", "kylie", "brooklyn", "fredrick", "wyatt", "george"];
  const tok = namesTokenizer(words);
  assert.equal(tok.vocabSize, 27);
  const model = new MLPLanguageModel({ vocabSize: 27, blockSize: 3, nEmbd: 10, nHidden: 200 }, new Generator(2147483647), { W2: 0.01, b2: 0 });
  const loss = evaluate(model, buildDataset(words, tok, 3));
  assert.ok(Math.abs(loss - Math.log(27)) < 0.05, `loss ${loss}, ln(27) = ${Math.log(27)}`);
  assert.ok(model.b2.dataSync().every((v) => v === 0));
  model.dispose();
});

// ---------------------------------------------------------------------------------------------------
// Training

test("training on a tiny fixed set lowers the loss, deterministically under a seed", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const run = async () => {
    const g = new Generator(7);
    const model = new MLPLanguageModel(small(), g);
    const before = evaluate(model, data);
    const result = await train(model, randomBatches(data, 16, g), { steps: 300, learningRate: 0.1, ...quiet });
    const after = evaluate(model, data);
    model.dispose();
    return { before, after, result };
  };
  const first = await run();
  assert.ok(first.after < first.before - 1, `loss ${first.before} -> ${first.after}`);
  assert.equal(first.result.losses.length, 300);
  assert.ok(first.result.log10Losses.every((l, i) => Math.abs(l - Math.log10(first.result.losses[i])) < 1e-12));
  assert.ok(first.result.stepsPerSecond > 0);
  assert.deepEqual((await run()).result.losses, first.result.losses, "same seed, same losses");
});

test("tf.memory().numTensors stays constant over 100 training steps", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(3);
  const model = new MLPLanguageModel(small(), g);
  const counts: number[] = [];
  for (let step = 0; step < 100; step++) {
    const { X, Y } = sampleBatch(data, 8, g);
    trainStep(model, X, Y, 0.1);
    tf.dispose([X, Y]);
    counts.push(tf.memory().numTensors);
  }
  assert.ok(counts.every((c) => c === counts[0]), `tensor counts vary: ${[...new Set(counts)]}`);
  const before = tf.memory().numTensors;
  await train(model, randomBatches(data, 8, g), { steps: 100, learningRate: 0.1, evaluate: () => evaluate(model, data), evalEvery: 25, ...quiet });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("a learning-rate schedule gets the step; eval losses every evalEvery steps; a final progress report", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(5);
  const model = new MLPLanguageModel(small(), g);
  const seen: number[] = [];
  const reports: ProgressInfo[] = [];
  const result = await train(model, randomBatches(data, 4, g), {
    steps: 10,
    learningRate: (step) => (seen.push(step), step < 5 ? 0.1 : 0.01),
    evaluate: () => evaluate(model, data),
    evalEvery: 4,
    onProgress: (info) => reports.push(info),
    ...quiet,
  });
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const last = reports.at(-1)!;
  assert.deepEqual([last.step, last.steps, last.evalLoss], [10, 10, result.evalLosses[1].loss], "a final report");
  assert.ok(Math.abs(last.loss - result.losses.reduce((a, b) => a + b) / 10) < 1e-9, "the mean of the last steps' losses");
  assert.deepEqual(result.evalLosses.map((e) => e.step), [4, 8]);
  model.dispose();
});

test("bad training settings are clear errors", async () => {
  const data = buildDataset(WORDS, tokenizer, 3); // 67 examples
  const g = new Generator(1);
  const model = new MLPLanguageModel(small(), g);
  const options = { steps: 10, learningRate: 0.1, ...quiet };
  const batches = randomBatches(data, 8, g);
  assert.throws(() => randomBatches(data, 1000, g), /batchSize 1000 is larger than the data set \(67 examples\)/);
  for (const learningRate of [NaN, Infinity, 0, -0.1]) {
    await assert.rejects(() => train(model, batches, { ...options, learningRate }), /learning rate must be a finite number > 0/);
  }
  await assert.rejects(() => train(model, batches, { ...options, learningRate: (step) => (step === 5 ? NaN : 0.1) }), /got NaN at step 5/);
  await assert.rejects(() => train(model, batches, { ...options, steps: 0 }), /steps must be an integer >= 1/);
  await assert.rejects(() => train(model, batches, { ...options, evalEvery: 5 }), /evalEvery needs evaluate/);
  const wrongContext = randomBatches(buildDataset(WORDS, tokenizer, 2), 8, g);
  await assert.rejects(() => train(model, wrongContext, options), /idx must be int32 of shape \[B, 3\] \(got int32 \[8,2\]\)/);
  model.dispose();
});

test("a non-finite loss stops training with an error naming the step and the learning rate", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(1);
  const model = new MLPLanguageModel(small(), g);
  const tensors = tf.memory().numTensors;
  // 1e20 overflows float32 within a step or two (1e6 only makes the loss huge: tanh saturates).
  await assert.rejects(
    () => train(model, randomBatches(data, 8, g), { steps: 100, learningRate: 1e20, ...quiet }),
    (error: unknown) => {
      assert.ok(error instanceof NonFiniteLossError);
      assert.match(error.message, /the loss became (NaN|-?Infinity) at step \d+ \(learning rate 100000000000000000000\)/);
      assert.equal(error.losses.length, error.step, "the losses of the steps before");
      assert.ok(error.step < 100);
      return true;
    },
  );
  assert.equal(tf.memory().numTensors, tensors, "nothing leaks on the way out");
  model.dispose();
});

// ---------------------------------------------------------------------------------------------------
// Evaluation, sampling, learning-rate search

test("evaluate gives the same loss in chunks as in one piece; estimateLoss names the splits", () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const model = new MLPLanguageModel(small(), new Generator(2));
  const whole = evaluate(model, data);
  assert.ok(Math.abs(evaluate(model, data, 7) - whole) < 1e-5);
  const { X, Y } = datasetTensors(data);
  const direct = tf.tidy(() => model.forward(X, Y).loss!.dataSync()[0]);
  assert.ok(Math.abs(direct - whole) < 1e-5);
  const losses = estimateLoss(model, { train: data, dev: buildDataset(["ava"], tokenizer, 3) });
  assert.deepEqual(Object.keys(losses), ["train", "dev"]);
  assert.equal(losses.train, whole);
  tf.dispose([X, Y]);
  model.dispose();
});

test("sampling is deterministic under a seed and yields words of the vocabulary", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(11);
  const model = new MLPLanguageModel(small(), g);
  await train(model, randomBatches(data, 16, g), { steps: 200, learningRate: 0.1, ...quiet });
  const a = sampleNames(model, tokenizer, new Generator(99), 20);
  const b = sampleNames(model, tokenizer, new Generator(99), 20);
  const c = sampleNames(model, tokenizer, new Generator(100), 20);
  assert.equal(a.length, 20);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.every((word) => /^[a-z]*$/.test(word) && word.length <= 50), a.join(" "));
  model.dispose();
});

test("the learning-rate finder tries 1000 rates spaced exponentially from 1e-3 to 1", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(4);
  const model = new MLPLanguageModel(small(), g);
  const { learningRates, losses } = await findLearningRate(model, randomBatches(data, 8, g), { progress: false });
  assert.equal(learningRates.length, 1000);
  assert.equal(losses.length, 1000);
  assert.ok(Math.abs(learningRates[0] - 1e-3) < 1e-15);
  assert.ok(Math.abs(learningRates[999] - 1) < 1e-12);
  const ratio = learningRates[1] / learningRates[0];
  assert.ok(Math.abs(ratio - 10 ** (3 / 999)) < 1e-12);
  assert.ok(learningRates.every((lr, i) => i === 0 || Math.abs(lr / learningRates[i - 1] - ratio) < 1e-9), "a constant ratio");
  await assert.rejects(() => findLearningRate(model, randomBatches(data, 8, g), { from: 1, to: 0.1 }), /0 < from < to/);
  model.dispose();
});

// ---------------------------------------------------------------------------------------------------
// True gradients, the per-step hook, optimizers, Stop, generation

test("onStep sees the true gradients (not scaled by the learning rate) and SGD moves p by -lr * grad", () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(21);
  const model = new MLPLanguageModel(small(), g);
  const { X, Y } = sampleBatch(data, 8, g);
  const expected = tf.tidy(() => tf.grads(() => model.forward(X, Y).loss!)(model.parameters()).map((t) => t.arraySync()));
  const before = model.parameters().map((p) => p.arraySync());
  const seen: StepInfo[] = [];
  let grads: unknown[] = [];
  trainStep(model, X, Y, 0.5, new SGD(), (info) => {
    seen.push(info);
    grads = info.grads.map((t) => t.arraySync());
  });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].learningRate, 0.5);
  assert.deepEqual(grads, expected, "the hook's gradients are d loss / d p");
  model.parameters().forEach((p, i) => {
    const moved = (tf.tidy(() => tf.tensor(before[i] as number[]).sub(tf.tensor(expected[i] as number[]).mul(0.5)).dataSync()));
    const now = p.dataSync();
    for (let j = 0; j < now.length; j++) assert.ok(Math.abs(now[j] - moved[j]) < 1e-6, `parameter ${i}[${j}]`);
  });
  tf.dispose([X, Y]);
  model.dispose();
});

test("train passes the step number to onStep and training: true to forward; evaluation passes false", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(22);
  const inner = new MLPLanguageModel(small(), g);
  const modes: (boolean | undefined)[] = [];
  const model: LanguageModel = {
    blockSize: inner.blockSize,
    forward: (idx, targets, options) => (modes.push(options?.training), inner.forward(idx, targets)),
    parameters: () => inner.parameters(),
  };
  const steps: number[] = [];
  await train(model, randomBatches(data, 4, g), { steps: 3, learningRate: 0.1, onStep: (info) => steps.push(info.step), ...quiet });
  assert.deepEqual(steps, [0, 1, 2]);
  assert.deepEqual(modes, [true, true, true]);
  evaluate(model, data);
  assert.equal(modes.at(-1), false);
  inner.dispose();
});

test("Stop (a SIGINT the host handles, as in a kernel) ends training after the current step, keeping the weights", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(23);
  const model = new MLPLanguageModel(small(), g);
  let hostCalls = 0;
  const host = () => void hostCalls++; // stands in for tslab's own SIGINT handler
  process.on("SIGINT", host);
  const tensors = tf.memory().numTensors;
  try {
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => void lines.push(line);
    let result;
    try {
      // Stop pressed while step 5 runs: the signal arrives as an event, as in a kernel.
      const onStep = (info: StepInfo) => void (info.step === 5 && setImmediate(() => process.emit("SIGINT", "SIGINT")));
      result = await train(model, randomBatches(data, 8, g), { steps: 10_000_000, learningRate: 0.01, title: "mlp", onStep });
    } finally {
      console.log = log;
    }
    assert.equal(result.stopped, true);
    assert.ok(result.stepsDone > 5 && result.stepsDone < 10_000_000, `stopped after ${result.stepsDone} steps`);
    assert.equal(result.losses.length, result.stepsDone);
    assert.equal(hostCalls, 0, "the host's handler does not run while training listens");
    assert.match(lines.at(-1)!, new RegExp(`mlp: stopped at step ${result.stepsDone.toLocaleString("en-US")} of 10,000,000`));
    const weights = model.W1.dataSync().slice();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(model.W1.dataSync(), weights, "nothing keeps training in the background");
    assert.deepEqual(process.listeners("SIGINT"), [host], "the host's handler is back");
    assert.equal(tf.memory().numTensors, tensors);
  } finally {
    process.removeListener("SIGINT", host);
    model.dispose();
  }
});

test("without a host SIGINT handler (a plain script), train leaves SIGINT alone", async () => {
  const data = buildDataset(WORDS, tokenizer, 3);
  const g = new Generator(24);
  const model = new MLPLanguageModel(small(), g);
  const saved = process.listeners("SIGINT");
  for (const l of saved) process.removeListener("SIGINT", l);
  try {
    let during = -1;
    await train(model, randomBatches(data, 8, g), { steps: 2, learningRate: 0.1, onStep: () => void (during = process.listenerCount("SIGINT")), ...quiet });
    assert.equal(during, 0);
  } finally {
    for (const l of saved) process.on("SIGINT", l);
    model.dispose();
  }
});

test("generate crops the context to blockSize, takes the last position's logits, and stops at stopAt", () => {
  const vocabSize = 4;
  const seenShapes: number[][] = [];
  // A model that always predicts (last token + 1) % vocabSize, with logits [B, T, V] like a GPT.
  const model: LanguageModel = {
    blockSize: 3,
    forward: (idx) => {
      seenShapes.push(idx.shape);
      return tf.tidy(() => ({ logits: tf.oneHot(idx.toInt().add(tf.scalar(1, "int32")).mod(tf.scalar(vocabSize, "int32")), vocabSize).toFloat().mul(100) }));
    },
    parameters: () => [],
  };
  assert.deepEqual(generate(model, [0], 6, new Generator(1)), [1, 2, 3, 0, 1, 2]);
  assert.deepEqual(seenShapes.map((s) => s[1]), [1, 2, 3, 3, 3, 3], "never more than blockSize tokens");
  assert.deepEqual(generate(model, [1, 2, 3, 0, 1], 10, new Generator(1), { stopAt: 0 }), [2, 3, 0]);
  assert.throws(() => generate(model, [], 3, new Generator(1)), /at least one token/);
  assert.throws(() => generate(model, [0], 3, new Generator(1), { temperature: 0 }), /temperature must be/);
});

test("temperature: low makes sampling near-greedy, high flattens it", () => {
  const model: LanguageModel = {
    blockSize: 1,
    forward: (idx) => tf.tidy(() => ({ logits: tf.tensor2d([[2, 1, 0]]).tile([idx.shape[0], 1]) })),
    parameters: () => [],
  };
  const counts = (temperature: number) => {
    const tokens = generate(model, [0], 2000, new Generator(5), { temperature });
    return [0, 1, 2].map((t) => tokens.filter((x) => x === t).length / 2000);
  };
  assert.ok(counts(0.05)[0] > 0.99);
  const flat = counts(100);
  assert.ok(flat.every((p) => Math.abs(p - 1 / 3) < 0.05), `${flat}`);
});
