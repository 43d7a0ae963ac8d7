// A job of `trainInWorkers` on a stream of tokens (lecture 05's ladder): plain data, as the other jobs,
// run in a worker exactly as notebook 05 runs a rung in its own thread: the model from its seeds,
// random windows of the training tokens (textBatches), AdamW, and every `estimate.every` steps
// estimateLoss over windows of each split, every split drawing from one Generator(estimate.seed).
import type { ProgressInfo } from "../display/progress";
import { estimateLoss } from "../evaluate";
import { ladderModel, type LadderConfig, type LadderRung } from "../gpt-ladder";
import { countParameters } from "../model";
import { AdamW, type AdamWOptions } from "../optim";
import { Generator } from "../random";
import { textBatches } from "../text-batches";
import { train } from "../train";
import { scheduleFunction, type StepSchedule, type TrainJobResult } from "./parallel-jobs";

/** A rung of lecture 05's ladder (lib/gpt-ladder.ts). */
export interface LadderModelSpec {
  kind: "ladder";
  rung: LadderRung;
  config: LadderConfig;
  /** `new Generator(body)` draws the rung's body, `new Generator(embeddings)` the embeddings and lm_head. */
  seeds: { body: number; embeddings: number };
}

export interface TextTrainJob {
  /** The row's name, shown on the progress line and returned with its result. */
  name: string;
  model: LadderModelSpec;
  steps: number;
  batchSize: number;
  learningRate: StepSchedule;
  /** AdamW's settings (default: AdamW's defaults). */
  adamW?: AdamWOptions;
  /** The training tokens: windows of config.blockSize + 1 from `new Generator(batchSeed)`. */
  train: Int32Array;
  batchSeed: number;
  /** The estimate every `every` steps: the mean of `batches` windows of each split, all drawn from one `new Generator(seed)`. */
  estimate: { splits: Record<string, Int32Array>; seed: number; batches: number; every: number };
}

/** A ladder job (the other kinds train on a Dataset: parallel-jobs.ts). */
export function isTextJob(job: { model: { kind: string } }): job is TextTrainJob {
  return job.model.kind === "ladder";
}

/** Runs one text job in this thread; the worker calls this, and so can a serial run. */
export async function runTextJob(job: TextTrainJob, onProgress?: (info: ProgressInfo) => void): Promise<TrainJobResult> {
  const { rung, config, seeds } = job.model;
  const model = ladderModel(rung, config, new Generator(seeds.body), new Generator(seeds.embeddings));
  const optimizer = new AdamW(job.adamW);
  try {
    const estimateGenerator = new Generator(job.estimate.seed);
    const splits = Object.fromEntries(Object.entries(job.estimate.splits).map(([name, tokens]) => [name, textBatches(tokens, config.blockSize, job.batchSize, estimateGenerator)]));
    const run = await train(model, textBatches(job.train, config.blockSize, job.batchSize, new Generator(job.batchSeed)), {
      steps: job.steps,
      learningRate: scheduleFunction(job.learningRate),
      optimizer: optimizer,
      evalEvery: job.estimate.every,
      evaluate: () => estimateLoss(model, splits, job.estimate.batches),
      progress: false,
      onProgress: onProgress,
    });
    const last = run.evalLosses.at(-1);
    if (!last) throw new Error(`trainInWorkers: job "${job.name}" made no estimate: give estimate.every <= steps (${job.steps}).`);
    return { name: job.name, losses: run.losses, evaluation: last.losses, estimates: run.evalLosses, seconds: run.seconds, parameters: countParameters(model) };
  } finally {
    model.dispose();
    optimizer.dispose(); // its running means m and v
  }
}
