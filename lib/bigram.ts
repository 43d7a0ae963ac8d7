// The bigram language model of lecture 01: count which character follows which, normalise the
// counts into probabilities, sample from them, and score the model by its average negative log
// likelihood. The notebook writes each of these by hand first; these are the library's versions.
import * as tf from "@tensorflow/tfjs";
import { buildDataset } from "./dataset";
import { crossEntropy } from "./losses";
import type { ForwardOptions, LanguageModel, ModelOutput } from "./model";
import { BOUNDARY, CharTokenizer } from "./tokenizer";

/** Every (current, next) character pair of every word, with '.' added at the start and the end. */
export function bigrams(words: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (const word of words) {
    const chars = [BOUNDARY, ...word, BOUNDARY];
    for (let i = 0; i + 1 < chars.length; i++) pairs.push([chars[i], chars[i + 1]]);
  }
  return pairs;
}

/** N[i][j] = how often token j follows token i. Plain arrays: counting is a loop, not tensor work. */
export function bigramCounts(words: string[], tokenizer: CharTokenizer): number[][] {
  const size = tokenizer.vocabSize;
  const counts = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  // A bigram is an example with one token of context: buildDataset with blockSize 1.
  const { X, Y } = buildDataset(words, tokenizer, 1);
  for (let i = 0; i < Y.length; i++) counts[X[i]][Y[i]] += 1;
  return counts;
}

/** Each row of the counts (plus `smoothing`, the lecture's "+1") divided by its sum: P[i][j] = p(j | i). */
export function bigramProbabilities(counts: number[][], smoothing = 0): tf.Tensor2D {
  return tf.tidy(() => {
    const smoothed = tf.tensor2d(counts).add(smoothing);
    return smoothed.div(smoothed.sum(1, true)) as tf.Tensor2D; // keepdims: [V, 1] divides each row by its own sum
  });
}

/** Average negative log likelihood of every bigram of `words` under P (Infinity when one has p = 0). */
export function averageNll(P: tf.Tensor2D, words: string[], tokenizer: CharTokenizer): number {
  const { X, Y } = buildDataset(words, tokenizer, 1);
  const probabilities = P.arraySync();
  // Summed in float64 on purpose: 228,146 terms in float32 would blur the 4th decimal.
  let logLikelihood = 0;
  for (let i = 0; i < Y.length; i++) logLikelihood += Math.log(probabilities[X[i]][Y[i]]);
  return -logLikelihood / Y.length;
}

/**
 * The count model as a LanguageModel, so evaluation and generation are the ones every later model
 * uses: its logits are log P, since softmax(log P) = P (each row of P sums to 1).
 */
export class CountBigramModel implements LanguageModel {
  readonly blockSize = 1;
  /** log P [V, V]: row i holds the log-probabilities of the token after token i. */
  readonly logP: tf.Tensor2D;

  constructor(P: tf.Tensor2D) {
    this.logP = tf.tidy(() => tf.log(P));
  }

  /** idx [B, T] -> logits [B, T, V]: each position's row of log P (a bigram looks only at its own token). */
  forward(idx: tf.Tensor, targets?: tf.Tensor, _options?: ForwardOptions): ModelOutput {
    return tf.tidy(() => {
      const logits = tf.gather(this.logP, idx.toInt()); // [B, T, V]
      return targets ? { logits, loss: crossEntropy(logits, targets) } : { logits };
    });
  }

  /** Counting is not trained by gradients: nothing to learn. */
  parameters(): tf.Variable[] {
    return [];
  }

  dispose(): void {
    this.logP.dispose();
  }
}
