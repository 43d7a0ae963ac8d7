// The bigram model of lecture 02 as a one-layer neural net: one-hot(x) @ W gives logits ("log
// counts"); softmax turns them into next-character probabilities. Trained by gradient descent it
// arrives at the count model's probabilities: exp(W), row-normalised, is the smoothed count matrix.
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "./losses";
import type { ForwardOptions, LanguageModel, ModelOutput } from "./model";
import { Generator } from "./random";

/** Logits [N, V] of the next token for inputs xs [N]: one-hot rows pick rows of W. */
export function bigramNetLogits(W: tf.Tensor2D, xs: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(xs, W.shape[0]).toFloat().matMul(W) as tf.Tensor2D);
}

/**
 * Average negative log likelihood + regularization * mean(W^2). The regularization pulls W towards 0,
 * i.e. towards uniform probabilities: the same job as the count model's +1 smoothing.
 */
export function bigramNetLoss(W: tf.Tensor2D, xs: tf.Tensor1D, ys: tf.Tensor1D, regularization = 0.01): tf.Scalar {
  return tf.tidy(() => crossEntropy(bigramNetLogits(W, xs), ys).add(W.square().mean().mul(regularization)));
}

/**
 * The same net as a LanguageModel (makemore's Bigram, lecture 05's first model): W [V, V] is a lookup
 * table whose row for token x holds the logits of the token after x. Looking a row up is what
 * one-hot(x) @ W computes, without the multiply.
 */
export class BigramLanguageModel implements LanguageModel {
  readonly blockSize = 1;
  readonly W: tf.Variable;

  /** `regularization` adds regularization * mean(W^2) to the loss, as lecture 02 does (default 0). */
  constructor(vocabSize: number, generator: Generator, readonly regularization = 0) {
    if (!Number.isInteger(vocabSize) || vocabSize < 1) throw new Error(`BigramLanguageModel: vocabSize must be an integer >= 1 (got ${vocabSize}).`);
    this.W = tf.tidy(() => tf.variable(generator.randn([vocabSize, vocabSize])));
  }

  /** idx [B, T] -> logits [B, T, V]; targets [B, T] (or [B] when T is 1) -> also the loss. */
  forward(idx: tf.Tensor, targets?: tf.Tensor, _options?: ForwardOptions): ModelOutput {
    return tf.tidy(() => {
      const logits = tf.gather(this.W, idx.toInt()); // [B, T, V]
      if (!targets) return { logits };
      const nll = crossEntropy(logits, targets);
      const loss = this.regularization > 0 ? nll.add(this.W.square().mean().mul(this.regularization)) : nll;
      return { logits, loss: loss as tf.Scalar };
    });
  }

  parameters(): tf.Variable[] {
    return [this.W];
  }

  dispose(): void {
    this.W.dispose();
  }
}
