// Minibatch gradient descent for any LanguageModel, written once (lecture 03's training loop): draw a
// random batch of examples, forward, backward, and nudge every parameter against its gradient.
import * as tf from "@tensorflow/tfjs";
import { sampleBatch, type Dataset } from "./dataset";
import { evaluate } from "./evaluate";
import type { LanguageModel } from "./model";
import { TrainingProgress, type ProgressInfo } from "./display/progress";
import { Generator } from "./random";

export interface TrainOptions {
  steps: number;
  batchSize: number;
  /** A number, or a schedule of the step (counted from 0): e.g. `(i) => (i < 100_000 ? 0.1 : 0.01)`. */
  learningRate: number | ((step: number) => number);
  /** Draws the examples of each batch. */
  generator: Generator;
  /** Show the live progress line and loss curve (default true). */
  progress?: boolean;
  onProgress?: (info: ProgressInfo) => void;
  /** Every `evalEvery` steps, the loss on all of `evalData` (e.g. the dev split). */
  evalData?: Dataset;
  evalEvery?: number;
  /** The name on the progress line. */
  title?: string;
}

export interface TrainResult {
  /** Every step's batch loss, before that step's update. */
  losses: number[];
  /** log10 of each loss: the lecture plots these, where the shape of the curve is easier to see. */
  log10Losses: number[];
  /** The loss on `evalData` after every `evalEvery` steps. */
  evalLosses: { step: number; loss: number }[];
  seconds: number;
  stepsPerSecond: number;
}

/** Thrown when a step's loss is NaN or infinite; carries the losses of the steps before it. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly learningRate: number, readonly loss: number, readonly losses: number[]) {
    super(
      `train: the loss became ${loss} at step ${step} (learning rate ${learningRate}); training stopped ` +
        `before that step's update. A smaller learning rate usually helps.`,
    );
    this.name = "NonFiniteLossError";
  }
}

/**
 * Trains `model` in place with plain SGD (p -= learningRate * grad) and returns the losses.
 * Async only so that the live progress reaches the notebook while it trains: `await train(...)`.
 */
export async function train(model: LanguageModel, data: Dataset, options: TrainOptions): Promise<TrainResult> {
  const { steps, batchSize, generator, evalData, evalEvery } = options;
  checkTraining(model, data, options);
  const losses: number[] = [];
  const log10Losses: number[] = [];
  const evalLosses: { step: number; loss: number }[] = [];
  const progress = new TrainingProgress(options.title ?? "train", steps, { show: options.progress ?? true, onProgress: options.onProgress });
  const start = performance.now();
  for (let step = 0; step < steps; step++) {
    const learningRate = learningRateAt(options.learningRate, step);
    const batch = sampleBatch(data, batchSize, generator);
    let loss: number;
    try {
      loss = trainStep(model, batch.X, batch.Y, learningRate);
    } finally {
      tf.dispose([batch.X, batch.Y]);
    }
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(step, learningRate, loss, losses);
    losses.push(loss);
    log10Losses.push(Math.log10(loss));
    if (evalData && evalEvery && (step + 1) % evalEvery === 0) evalLosses.push({ step: step + 1, loss: evaluate(model, evalData) });
    await progress.update(step + 1, losses, evalLosses.at(-1)?.loss);
  }
  await progress.finish(steps, losses, evalLosses.at(-1)?.loss);
  const seconds = (performance.now() - start) / 1000;
  return { losses, log10Losses, evalLosses, seconds, stepsPerSecond: steps / seconds };
}

/**
 * One step of gradient descent on one batch (X [B, blockSize], Y [B]); returns the batch's loss.
 * When the loss is not finite the parameters are left as they were.
 */
export function trainStep(model: LanguageModel, X: tf.Tensor, Y: tf.Tensor, learningRate: number): number {
  // One tidy per step: every tensor the step makes, gradients included, is freed at its end.
  return tf.tidy(() => {
    const parameters = model.parameters();
    // Backprop starts from the learning rate instead of 1, so each gradient arrives already
    // multiplied by it (chain rule: d(lr * loss)/dp = lr * dloss/dp) and the update
    // p -= lr * grad is one subtraction per parameter.
    const { value, grads } = tf.valueAndGrads(() => {
      const { loss } = model.forward(X, Y);
      if (!loss) throw new Error("trainStep: the model's forward(X, Y) returned no loss.");
      return loss;
    })(parameters, tf.scalar(learningRate));
    const loss = value.dataSync()[0]; // a cheap read on the CPU and WASM backends
    if (!Number.isFinite(loss)) return loss;
    parameters.forEach((p, i) => p.assign(p.sub(grads[i])));
    return loss;
  });
}

export interface LearningRateSearch {
  /** From `from` to `to`, spaced evenly on a log scale (the lecture's 10 ** linspace(-3, 0, 1000)). */
  learningRates: number[];
  /** The batch loss at each learning rate. */
  losses: number[];
}

/**
 * The lecture's learning-rate finder: one training step at each of `steps` learning rates growing
 * exponentially from `from` to `to`; plot loss against learning rate and pick one in the valley,
 * before the loss turns up. It trains `model` as it goes, so start a fresh model afterwards. If the
 * loss stops being finite, the search ends there and returns the rates it tried.
 */
export async function findLearningRate(
  model: LanguageModel,
  data: Dataset,
  options: { generator: Generator; from?: number; to?: number; steps?: number; batchSize?: number; progress?: boolean },
): Promise<LearningRateSearch> {
  const { from = 1e-3, to = 1, steps = 1000, batchSize = 32 } = options;
  if (!(from > 0 && to > from && Number.isFinite(to))) {
    throw new Error(`findLearningRate: need 0 < from < to, both finite (got from ${from}, to ${to}).`);
  }
  if (!Number.isInteger(steps) || steps < 2) throw new Error(`findLearningRate: steps must be an integer >= 2 (got ${steps}).`);
  const exponents = Array.from({ length: steps }, (_, i) => Math.log10(from) + (i / (steps - 1)) * (Math.log10(to) - Math.log10(from)));
  const learningRates = exponents.map((e) => 10 ** e);
  try {
    const { losses } = await train(model, data, {
      steps,
      batchSize,
      learningRate: (step) => learningRates[step],
      generator: options.generator,
      progress: options.progress,
      title: "learning-rate search",
    });
    return { learningRates, losses };
  } catch (error) {
    if (!(error instanceof NonFiniteLossError)) throw error;
    return { learningRates: learningRates.slice(0, error.losses.length), losses: error.losses };
  }
}

function learningRateAt(learningRate: TrainOptions["learningRate"], step: number): number {
  const value = typeof learningRate === "function" ? learningRate(step) : learningRate;
  if (!(Number.isFinite(value) && value > 0)) {
    throw new Error(`train: the learning rate must be a finite number > 0 (got ${value} at step ${step}).`);
  }
  return value;
}

function checkTraining(model: LanguageModel, data: Dataset, options: TrainOptions): void {
  const { steps, batchSize, evalEvery } = options;
  const size = data.Y.length;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`train: steps must be an integer >= 1 (got ${steps}).`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`train: batchSize must be an integer >= 1 (got ${batchSize}).`);
  if (batchSize > size) throw new Error(`train: batchSize ${batchSize} is larger than the data set (${size} examples).`);
  if (data.X.length !== size * data.blockSize) throw new Error(`train: X has ${data.X.length} tokens, not ${size} x blockSize ${data.blockSize}.`);
  if (model.blockSize !== data.blockSize) {
    throw new Error(`train: the model reads ${model.blockSize} tokens of context but the data set has blockSize ${data.blockSize}.`);
  }
  if (evalEvery !== undefined && !(Number.isInteger(evalEvery) && evalEvery >= 1)) {
    throw new Error(`train: evalEvery must be an integer >= 1 (got ${evalEvery}).`);
  }
  if (typeof options.learningRate === "number") learningRateAt(options.learningRate, 0);
}
