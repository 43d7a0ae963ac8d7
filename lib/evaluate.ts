// The loss of a model on a whole split, without gradients: how training, dev and test loss are compared.
import * as tf from "@tensorflow/tfjs";
import { datasetTensors, type Dataset } from "./dataset";
import type { LanguageModel } from "./model";

/** Mean loss over every example of `data`, in chunks of `chunkSize` rows so memory stays small. */
export function evaluate(model: LanguageModel, data: Dataset, chunkSize = 16_384): number {
  const n = data.Y.length;
  if (n === 0) throw new Error("evaluate: the data set is empty.");
  let total = 0;
  for (let start = 0; start < n; start += chunkSize) {
    const end = Math.min(n, start + chunkSize);
    total += tf.tidy(() => {
      const { X, Y } = datasetTensors(data, start, end);
      const { loss } = model.forward(X, Y);
      if (!loss) throw new Error("evaluate: the model's forward(X, Y) returned no loss.");
      return loss.dataSync()[0] * (end - start); // a chunk's mean, weighted by its size
    });
  }
  return total / n;
}

/** The loss on each named split, e.g. estimateLoss(model, { train, dev }) -> { train: 2.12, dev: 2.17 }. */
export function estimateLoss<K extends string>(model: LanguageModel, splits: Record<K, Dataset>): Record<K, number> {
  const losses = {} as Record<K, number>;
  for (const name of Object.keys(splits) as K[]) losses[name] = evaluate(model, splits[name]);
  return losses;
}
