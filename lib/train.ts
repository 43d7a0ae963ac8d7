// The training loop, written once for every LanguageModel (lecture 03's loop, and the one lectures 04
// and 05 reuse): draw a batch, forward, backward, let the optimizer move every parameter against its
// gradient, repeat. The notebooks write this loop by hand first; `train` is that loop plus progress,
// a learning-rate schedule, evaluation every `evalEvery` steps (nanoGPT's `if iter % eval_interval == 0`)
// drawn live beside the batch loss, a checkpoint hook after each evaluation, a per-step hook and a
// clean stop.
import * as tf from "@tensorflow/tfjs";
import { sampleBatch, type Dataset } from "./dataset";
import type { LanguageModel } from "./model";
import { SGD, type Optimizer } from "./optim";
import { TrainingProgress, type Evaluation, type ProgressInfo } from "./display/progress";
import { StopRequest } from "./runtime/stop";
import { Generator } from "./random";

/** One batch: inputs X [B, T] int32 and targets Y ([B] or [B, T]). */
export interface Batch {
  X: tf.Tensor;
  Y: tf.Tensor;
}

/** Gives the next training batch; `train` calls it once per step and disposes the batch after it. */
export type BatchSource = () => Batch;

/** `batchSize` random rows of `data` at each call (lecture 03's minibatches). */
export function randomBatches(data: Dataset, batchSize: number, generator: Generator): BatchSource {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`randomBatches: batchSize must be an integer >= 1 (got ${batchSize}).`);
  if (batchSize > data.Y.length) throw new Error(`randomBatches: batchSize ${batchSize} is larger than the data set (${data.Y.length} examples).`);
  return () => sampleBatch(data, batchSize, generator);
}

/** What the per-step hook sees. The tensors live only during the call: read numbers out, or clone. */
export interface StepInfo {
  /** The step, counted from 0. */
  step: number;
  /** The batch loss, before this step's update. */
  loss: number;
  learningRate: number;
  parameters: tf.Variable[];
  /** d loss / d parameter: grads[i] belongs to parameters[i]. True gradients, not scaled. */
  grads: tf.Tensor[];
}

export interface TrainOptions {
  steps: number;
  /** A number, or a schedule of the step (counted from 0): e.g. `(i) => (i < 100_000 ? 0.1 : 0.01)`. */
  learningRate: number | ((step: number) => number);
  /** How parameters move given their gradients (default: plain SGD). */
  optimizer?: Optimizer;
  /** Called every step after backward and before the update: lecture 04's statistics come from here. */
  onStep?: (info: StepInfo) => void;
  /**
   * The loss to report every `evalEvery` steps: one number, e.g. `() => evaluate(model, dev)`, or one
   * per split, e.g. `() => estimateLoss(model, { train, val }, 20)`. Drawn live beside the batch loss.
   */
  evaluate?: () => number | Record<string, number>;
  /** Evaluate after steps evalEvery, 2 evalEvery, ... (the last one after the final step if `steps` is a multiple). */
  evalEvery?: number;
  /**
   * Called (and awaited) after each evaluation, where nanoGPT saves its checkpoint: e.g.
   * `(state) => state.step === steps ? saveCheckpoint(dir, model, ...) : undefined`.
   */
  checkpoint?: (state: CheckpointState) => void | Promise<void>;
  /** Show the live progress line and loss curve (default true). */
  progress?: boolean;
  onProgress?: (info: ProgressInfo) => void;
  /** The name on the progress line. */
  title?: string;
}

/** What the checkpoint hook sees after an evaluation. */
export interface CheckpointState {
  /** Steps done: the model has taken this many updates. */
  step: number;
  steps: number;
  /** Every evaluation so far, this one last. */
  evalLosses: Evaluation[];
  /** Every step's batch loss so far. */
  losses: number[];
  /** Seconds of training so far. */
  seconds: number;
}

export interface TrainResult {
  /** Every step's batch loss, before that step's update. */
  losses: number[];
  /** log10 of each loss: the lecture plots these, where the shape of the curve is easier to see. */
  log10Losses: number[];
  /** The result of `evaluate` after every `evalEvery` steps. */
  evalLosses: Evaluation[];
  /** Steps done: `steps`, or fewer when training was stopped. */
  stepsDone: number;
  /** True when Stop (the kernel's interrupt) ended training early; the model keeps its weights. */
  stopped: boolean;
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
 * Trains `model` in place for `steps` steps on batches from `batches`, and returns the losses.
 * Async so that the live progress reaches the notebook and Stop is heard while it trains:
 * `await train(...)`. Stop ends it after the current step, keeping the weights learned so far.
 */
export async function train(model: LanguageModel, batches: BatchSource, options: TrainOptions): Promise<TrainResult> {
  checkTraining(options);
  const { steps, evaluate, evalEvery, onStep, checkpoint } = options;
  const optimizer = options.optimizer ?? new SGD();
  const losses: number[] = [];
  const log10Losses: number[] = [];
  const evalLosses: Evaluation[] = [];
  const progress = new TrainingProgress(options.title ?? "train", steps, { show: options.progress ?? true, onProgress: options.onProgress });
  const stop = await StopRequest.listen();
  const start = performance.now();
  let step = 0;
  try {
    for (; step < steps && !stop.requested; step++) {
      const learningRate = learningRateAt(options.learningRate, step);
      const batch = batches();
      let loss: number;
      try {
        loss = trainStep(model, batch.X, batch.Y, learningRate, optimizer, onStep && ((info) => onStep({ ...info, step })));
      } finally {
        tf.dispose([batch.X, batch.Y]);
      }
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step, learningRate, loss, losses);
      losses.push(loss);
      log10Losses.push(Math.log10(loss));
      if (evaluate && evalEvery && (step + 1) % evalEvery === 0) {
        evalLosses.push(evaluation(step + 1, evaluate()));
        await progress.update(step + 1, losses, evalLosses, true); // every evaluation shows at once
        await checkpoint?.({ step: step + 1, steps, evalLosses, losses, seconds: (performance.now() - start) / 1000 });
      } else {
        await progress.update(step + 1, losses, evalLosses);
      }
      await stop.poll(); // let Stop be heard
    }
  } finally {
    stop.close();
  }
  await progress.finish(step, losses, evalLosses, stop.requested);
  const seconds = (performance.now() - start) / 1000;
  return { losses, log10Losses, evalLosses, stepsDone: step, stopped: stop.requested, seconds, stepsPerSecond: step / seconds };
}

/**
 * One step of gradient descent on one batch (X [B, T], Y): forward, backward, `onStep`, update.
 * Returns the batch's loss; when it is not finite the parameters are left as they were.
 */
export function trainStep(
  model: LanguageModel,
  X: tf.Tensor,
  Y: tf.Tensor,
  learningRate: number,
  optimizer: Optimizer = new SGD(),
  onStep?: (info: StepInfo) => void,
): number {
  // One tidy per step: every tensor the step makes, gradients included, is freed at its end.
  return tf.tidy(() => {
    const parameters = model.parameters();
    const { value, grads } = tf.valueAndGrads(() => {
      const { loss } = model.forward(X, Y, { training: true });
      if (!loss) throw new Error("trainStep: the model's forward(X, Y) returned no loss.");
      return loss;
    })(parameters);
    const loss = value.dataSync()[0]; // a cheap read on the CPU and WASM backends
    if (!Number.isFinite(loss)) return loss;
    onStep?.({ step: 0, loss, learningRate, parameters, grads });
    optimizer.step(parameters, grads, learningRate);
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
  batches: BatchSource,
  options: { from?: number; to?: number; steps?: number; progress?: boolean } = {},
): Promise<LearningRateSearch> {
  const { from = 1e-3, to = 1, steps = 1000 } = options;
  if (!(from > 0 && to > from && Number.isFinite(to))) {
    throw new Error(`findLearningRate: need 0 < from < to, both finite (got from ${from}, to ${to}).`);
  }
  if (!Number.isInteger(steps) || steps < 2) throw new Error(`findLearningRate: steps must be an integer >= 2 (got ${steps}).`);
  const exponents = Array.from({ length: steps }, (_, i) => Math.log10(from) + (i / (steps - 1)) * (Math.log10(to) - Math.log10(from)));
  const learningRates = exponents.map((e) => 10 ** e);
  try {
    const { losses } = await train(model, batches, {
      steps,
      learningRate: (step) => learningRates[step],
      progress: options.progress,
      title: "learning-rate search",
    });
    return { learningRates: learningRates.slice(0, losses.length), losses };
  } catch (error) {
    if (!(error instanceof NonFiniteLossError)) throw error;
    return { learningRates: learningRates.slice(0, error.losses.length), losses: error.losses };
  }
}

function evaluation(step: number, result: number | Record<string, number>): Evaluation {
  const losses = typeof result === "number" ? { eval: result } : { ...result };
  const values = Object.values(losses);
  if (values.length === 0) throw new Error("train: evaluate returned no losses (an empty object).");
  return { step, loss: values[values.length - 1], losses };
}

function learningRateAt(learningRate: TrainOptions["learningRate"], step: number): number {
  const value = typeof learningRate === "function" ? learningRate(step) : learningRate;
  if (!(Number.isFinite(value) && value > 0)) {
    throw new Error(`train: the learning rate must be a finite number > 0 (got ${value} at step ${step}).`);
  }
  return value;
}

function checkTraining(options: TrainOptions): void {
  const { steps, evaluate, evalEvery } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`train: steps must be an integer >= 1 (got ${steps}).`);
  if (evalEvery !== undefined && !(Number.isInteger(evalEvery) && evalEvery >= 1)) {
    throw new Error(`train: evalEvery must be an integer >= 1 (got ${evalEvery}).`);
  }
  if (evalEvery !== undefined && !evaluate) throw new Error("train: evalEvery needs evaluate, the loss to report (e.g. () => evaluate(model, dev)).");
  if (options.checkpoint && !evalEvery) throw new Error("train: checkpoint is called after each evaluation: give evaluate and evalEvery too.");
  if (typeof options.learningRate === "number") learningRateAt(options.learningRate, 0);
}
