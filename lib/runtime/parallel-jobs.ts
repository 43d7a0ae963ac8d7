// What one job of `trainInWorkers` is: plain data (no functions), so that it can be posted to a worker
// thread. The worker rebuilds the model from the seed exactly as the notebook would, and trains it with
// the same `train`, so the same job gives the same bits in a worker as in the notebook's own thread.
import * as tf from "@tensorflow/tfjs";
import type { Dataset } from "../dataset";
import type { Evaluation, ProgressInfo } from "../display/progress";
import { estimateLoss } from "../evaluate";
import { MLPLanguageModel, type MLPConfig, type MLPInit } from "../mlp";
import { countParameters, type LanguageModel } from "../model";
import { BatchNorm1d, PositionwiseBatchNorm1d, SequentialLanguageModel, type TensorLayer } from "../layers";
import { flatMLP, wavenet, type WaveNetBatchNorm, type WaveNetConfig } from "../wavenet";
import { Generator } from "../random";
import { TorchGenerator } from "../torch-random";
import { randomBatches, train } from "../train";

/** The model of a job: lecture 03's MLP with its init scales (lecture 04's rows). */
export interface MLPModelSpec {
  kind: "mlp";
  config: MLPConfig;
  init?: MLPInit;
}

/** Lecture 07's models: the hierarchical one (with the fixed BatchNorm or the lecture's bug), or the flat baseline. */
export interface WaveNetModelSpec {
  kind: "wavenet" | "flat";
  config: WaveNetConfig;
  /** wavenet only (default "fixed"). */
  batchNorm?: WaveNetBatchNorm;
}

export type ModelSpec = MLPModelSpec | WaveNetModelSpec;

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
  model: ModelSpec;
  /**
   * A number: `new TorchGenerator(seed)` draws the weights, then the batches (the lecture's order).
   * `{ weights, batches }`: `new Generator(weights)` draws the weights and `new Generator(batches)` the
   * batches, as notebook 03's own runs do.
   */
  seed: JobSeed;
  steps: number;
  batchSize: number;
  learningRate: StepSchedule;
  train: Dataset;
  /** Splits whose loss is measured after training (`estimateLoss`), e.g. `{ train, val }`. */
  evaluate: Record<string, Dataset>;
  /** Send back the trained weights and buffers (`result.state`), for `restoreJobModel`. */
  keepState?: boolean;
}

export type JobSeed = number | { weights: number; batches: number };

/** The generators a job's seed stands for: one TorchGenerator for both, or one Generator each. */
export function jobGenerators(seed: JobSeed): { weights: Generator; batches: Generator } {
  if (typeof seed === "number") {
    const generator = new TorchGenerator(seed);
    return { weights: generator, batches: generator };
  }
  return { weights: new Generator(seed.weights), batches: new Generator(seed.batches) };
}

export interface TrainJobResult {
  name: string;
  /** Every step's batch loss. */
  losses: number[];
  /** The loss on each split of `evaluate` after training. */
  evaluation: Record<string, number>;
  /** Text jobs (text-jobs.ts): every estimate during training, the last one being `evaluation`. */
  estimates?: Evaluation[];
  seconds: number;
  /** How many numbers the model trains. */
  parameters: number;
  /** With `keepState`: every parameter and buffer after training, in `stateVariables` order. */
  state?: Float32Array[];
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
export function buildJobModel(spec: ModelSpec, generator: Generator): LanguageModel {
  if (spec.kind === "mlp") return new MLPLanguageModel(spec.config, generator, spec.init ?? {});
  if (spec.kind === "wavenet") return wavenet(spec.config, generator, spec.batchNorm ?? "fixed");
  if (spec.kind === "flat") return flatMLP(spec.config, generator);
  throw new Error(`trainInWorkers: unknown model kind ${(spec as { kind: string }).kind}.`);
}

/**
 * Runs one job in this thread: the weights from its seed's generator, then `train` on batches from
 * the batches' generator (the same one for a number seed), then the loss on each split. The worker
 * calls this; so can a serial run.
 */
export async function runJob(job: TrainJob, onProgress?: (info: ProgressInfo) => void): Promise<TrainJobResult> {
  const generators = jobGenerators(job.seed);
  const model = buildJobModel(job.model, generators.weights);
  try {
    const run = await train(model, randomBatches(job.train, job.batchSize, generators.batches), {
      steps: job.steps,
      learningRate: scheduleFunction(job.learningRate),
      progress: false,
      onProgress: onProgress,
    });
    const evaluation = estimateLoss(model, job.evaluate);
    const state = job.keepState ? stateVariables(model).map((v) => v.dataSync() as Float32Array) : undefined;
    return { name: job.name, losses: run.losses, evaluation: evaluation, seconds: run.seconds, parameters: countParameters(model), state: state };
  } finally {
    disposeModel(model);
  }
}

/** The job's model with the weights and buffers it ended with: built from the job's seed, then `result.state` put in. */
export function restoreJobModel(job: TrainJob, result: TrainJobResult): LanguageModel {
  const { state } = result;
  if (!state) throw new Error(`restoreJobModel: job "${job.name}" sent back no weights; run it with keepState: true.`);
  const model = buildJobModel(job.model, jobGenerators(job.seed).weights);
  const variables = stateVariables(model);
  if (variables.length !== state.length || variables.some((v, k) => v.size !== state[k].length)) {
    disposeModel(model);
    throw new Error(`restoreJobModel: the weights sent back do not fit job "${job.name}"'s model; pass the job that produced this result.`);
  }
  tf.tidy(() => variables.forEach((v, k) => v.assign(tf.tensor(state[k], v.shape))));
  return model;
}

/** A model's parameters, then (layer by layer) its BatchNorm buffers: everything training changes. */
function stateVariables(model: LanguageModel): tf.Variable[] {
  if (!(model instanceof SequentialLanguageModel)) return model.parameters();
  return model.layers.flatMap((layer) => [...layer.parameters(), ...buffers(layer)]);
}

function buffers(layer: TensorLayer): tf.Variable[] {
  if (layer instanceof BatchNorm1d) return [layer.runningMean, layer.runningVar];
  if (layer instanceof PositionwiseBatchNorm1d) return buffers(layer.statistics);
  return [];
}

function disposeModel(model: LanguageModel): void {
  if (model instanceof SequentialLanguageModel) model.dispose();
  else tf.dispose(model.parameters());
}
