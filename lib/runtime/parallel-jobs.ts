// What one job of `trainInWorkers` is: plain data (no functions), so that it can be posted to a worker
// thread. The worker rebuilds the model from the seed exactly as the notebook would, and trains it with
// the same `train`, so the same job gives the same bits in a worker as in the notebook's own thread.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../dataset";
import type { ProgressInfo } from "../display/progress";
import { estimateLoss } from "../evaluate";
import { MLPLanguageModel, type MLPConfig, type MLPInit } from "../mlp";
import type { LanguageModel } from "../model";
import { TorchGenerator } from "../torch-random";
import { randomBatches, train } from "../train";

/** The model of a job: lecture 03's MLP with its init scales (lecture 04's rows). */
export interface MLPModelSpec {
  kind: "mlp";
  config: MLPConfig;
  init?: MLPInit;
}

/**
 * A learning rate that steps down: `rates[k]` until step `until[k]` (exclusive), the last rate after.
 * `{ rates: [0.1, 0.01], until: [100_000] }` is `(step) => (step < 100_000 ? 0.1 : 0.01)`.
 */
export interface StepSchedule {
  rates: number[];
  until: number[];
}

export interface TrainJob {
  /** The row's name, shown on the progress line and returned with its result. */
  name: string;
  model: MLPModelSpec;
  /** `new TorchGenerator(seed)` draws the weights, then the batches (the lecture's order). */
  seed: number;
  steps: number;
  batchSize: number;
  learningRate: StepSchedule;
  train: Dataset;
  /** Splits whose loss is measured after training (`estimateLoss`), e.g. `{ train, val }`. */
  evaluate: Record<string, Dataset>;
}

export interface TrainJobResult {
  name: string;
  /** Every step's batch loss. */
  losses: number[];
  /** The loss on each split of `evaluate` after training. */
  evaluation: Record<string, number>;
  seconds: number;
}

/** The schedule as a function of the step, for `train`. */
export function scheduleFunction(schedule: StepSchedule): (step: number) => number {
  const { rates, until } = schedule;
  if (rates.length !== until.length + 1) {
    throw new Error(`StepSchedule: needs one more rate than boundaries (got ${rates.length} rates, ${until.length} boundaries).`);
  }
  return (step) => {
    const k = until.findIndex((end) => step < end);
    return rates[k === -1 ? rates.length - 1 : k];
  };
}

/** The model a job describes, its weights drawn from `generator`. */
export function buildJobModel(spec: MLPModelSpec, generator: TorchGenerator): LanguageModel {
  if (spec.kind === "mlp") return new MLPLanguageModel(spec.config, generator, spec.init ?? {});
  throw new Error(`trainInWorkers: unknown model kind ${(spec as { kind: string }).kind}.`);
}

/**
 * Runs one job in this thread: the weights from `new TorchGenerator(seed)`, then `train` on batches
 * from the same generator, then the loss on each split. The worker calls this; so can a serial run.
 */
export async function runJob(job: TrainJob, onProgress?: (info: ProgressInfo) => void): Promise<TrainJobResult> {
  const generator = new TorchGenerator(job.seed);
  const model = buildJobModel(job.model, generator);
  try {
    const run = await train(model, randomBatches(job.train, job.batchSize, generator), {
      steps: job.steps,
      learningRate: scheduleFunction(job.learningRate),
      progress: false,
      onProgress: onProgress,
    });
    return { name: job.name, losses: run.losses, evaluation: estimateLoss(model, job.evaluate), seconds: run.seconds };
  } finally {
    tf.dispose(model.parameters());
  }
}
