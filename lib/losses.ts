// Losses shared by every model.
import * as tf from "@tensorflow/tfjs";

/**
 * Mean cross-entropy of `logits` [N, C] against integer `targets` [N].
 * Same value as -log(softmax(logits)[i, targets[i]]).mean(), but through logSoftmax, which subtracts
 * each row's maximum first: exp(100) overflows float32, exp(100 - 100) does not.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const logProbabilities = tf.logSoftmax(logits.reshape([-1, classes]));
    // Picking each row's target by a one-hot mask keeps the gradient a plain multiply.
    const picked = logProbabilities.mul(tf.oneHot(targets.reshape([-1]).toInt(), classes)).sum(1);
    return picked.mean().neg() as tf.Scalar;
  });
}
