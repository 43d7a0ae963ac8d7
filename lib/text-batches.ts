// Lecture 05's data: one long stream of tokens, split 90/10 into train and validation, and random
// windows of it as batches. Every window of T + 1 tokens holds T examples at once: the target at
// position t is the token after it, and the context is everything up to and including t.
import * as tf from "@tensorflow/tfjs";
import { Generator } from "./random";
import type { BatchSource } from "./train";

/** The first `trainFraction` of the tokens for training, the rest for validation (no shuffling: text is a sequence). */
export function splitText<T extends ArrayLike<number>>(tokens: T, trainFraction = 0.9): { train: T; val: T } {
  if (!(trainFraction > 0 && trainFraction < 1)) throw new Error(`splitText: trainFraction must be between 0 and 1 (got ${trainFraction}).`);
  const n = Math.floor(trainFraction * tokens.length);
  const slice = (tokens as unknown as { slice(start: number, end?: number): T }).slice.bind(tokens);
  return { train: slice(0, n), val: slice(n) };
}

/**
 * `batchSize` random windows of `tokens`: X [B, T] the windows, Y [B, T] the same windows shifted by
 * one, so Y[b, t] is the token that follows X[b, 0..t]. (The lecture's get_batch.)
 */
export function getBatch(tokens: ArrayLike<number>, blockSize: number, batchSize: number, generator: Generator): { X: tf.Tensor2D; Y: tf.Tensor2D } {
  checkWindows(tokens, blockSize, batchSize, "getBatch");
  const X = new Int32Array(batchSize * blockSize);
  const Y = new Int32Array(batchSize * blockSize);
  for (let b = 0; b < batchSize; b++) {
    const start = generator.integer(tokens.length - blockSize); // the last window must still have its target
    for (let t = 0; t < blockSize; t++) {
      X[b * blockSize + t] = tokens[start + t];
      Y[b * blockSize + t] = tokens[start + t + 1];
    }
  }
  return { X: tf.tensor2d(X, [batchSize, blockSize], "int32"), Y: tf.tensor2d(Y, [batchSize, blockSize], "int32") };
}

/** A BatchSource for train() and estimateLoss(): a fresh getBatch at every call. */
export function textBatches(tokens: ArrayLike<number>, blockSize: number, batchSize: number, generator: Generator): BatchSource {
  checkWindows(tokens, blockSize, batchSize, "textBatches");
  return () => getBatch(tokens, blockSize, batchSize, generator);
}

function checkWindows(tokens: ArrayLike<number>, blockSize: number, batchSize: number, caller: string): void {
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error(`${caller}: blockSize must be an integer >= 1 (got ${blockSize}).`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${caller}: batchSize must be an integer >= 1 (got ${batchSize}).`);
  if (tokens.length < blockSize + 1) {
    throw new Error(`${caller}: ${tokens.length} tokens are too few for a window of blockSize ${blockSize} plus its target.`);
  }
}
