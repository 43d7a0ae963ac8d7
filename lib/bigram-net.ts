// The bigram model of lecture 02 as a one-layer neural net: one-hot(x) @ W gives logits ("log
// counts"); softmax turns them into next-character probabilities. Trained by gradient descent it
// arrives at the count model's probabilities: exp(W), row-normalised, is the smoothed count matrix.
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "./losses";

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
