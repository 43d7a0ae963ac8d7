// The loss of a model without gradients: how training, dev and test loss are compared.
import * as tf from "@tensorflow/tfjs";
import { datasetTensors, type Dataset } from "./dataset";
import type { LanguageModel } from "./model";
import type { BatchSource } from "./train";

/** Mean loss over every example of `data`, in chunks of `chunkSize` rows so memory stays small. */
export function evaluate(model: LanguageModel, data: Dataset, chunkSize = 16_384): number {
  const n = data.Y.length;
  if (n === 0) throw new Error("evaluate: the data set is empty.");
  let total = 0;
  for (let start = 0; start < n; start += chunkSize) {
    const end = Math.min(n, start + chunkSize);
    total += tf.tidy(() => {
      const { X, Y } = datasetTensors(data, start, end);
      return lossOf(model, X, Y) * (end - start); // a chunk's mean, weighted by its size
    });
  }
  return total / n;
}

/** Mean loss over `batches` batches from `source`: an estimate, for data too large to go through whole. */
export function evaluateBatches(model: LanguageModel, source: BatchSource, batches = 200): number {
  if (!Number.isInteger(batches) || batches < 1) throw new Error(`evaluateBatches: batches must be an integer >= 1 (got ${batches}).`);
  let total = 0;
  for (let i = 0; i < batches; i++) total += tf.tidy(() => {
    const { X, Y } = source();
    return lossOf(model, X, Y);
  });
  return total / batches;
}

/**
 * The loss on each named split, e.g. estimateLoss(model, { train, dev }) -> { train: 2.12, dev: 2.17 }.
 * A split is a whole Dataset (every example counts) or a BatchSource (the mean of `batches` batches,
 * as lecture 05's estimate_loss).
 */
export function estimateLoss<K extends string>(model: LanguageModel, splits: Record<K, Dataset | BatchSource>, batches = 200): Record<K, number> {
  const losses = {} as Record<K, number>;
  for (const name of Object.keys(splits) as K[]) {
    const split = splits[name];
    losses[name] = typeof split === "function" ? evaluateBatches(model, split, batches) : evaluate(model, split);
  }
  return losses;
}

function lossOf(model: LanguageModel, X: tf.Tensor, Y: tf.Tensor): number {
  const { loss } = model.forward(X, Y, { training: false });
  if (!loss) throw new Error("evaluate: the model's forward(X, Y) returned no loss.");
  return loss.dataSync()[0];
}
