// Losses shared by every model.
import * as tf from "@tensorflow/tfjs";
import { SOFTMAX_CROSS_ENTROPY } from "./engine/wasm-fixes";

/**
 * Mean cross-entropy of `logits` [N, C] (or [..., C]) against integer `targets` [N] (or [...]).
 * Same value as -log(softmax(logits)[i, targets[i]]).mean(), but through logSoftmax, which subtracts
 * each row's maximum first: exp(100) overflows float32, exp(100 - 100) does not.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const rows = logits.rank === 2 ? logits : logits.reshape([-1, classes]);
    const labels = targets.rank === 1 && targets.dtype === "int32" ? targets : targets.reshape([-1]).toInt();
    if (rows.shape[0] !== labels.shape[0]) {
      throw new Error(`crossEntropy: ${rows.shape[0]} rows of logits but ${labels.shape[0]} targets.`);
    }
    // One fused kernel where the backend has it (see wasm-fixes.ts); the same formula in ops elsewhere.
    if (tf.getKernel(SOFTMAX_CROSS_ENTROPY, tf.getBackend())) {
      return tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits: rows, targets: labels }) as tf.Scalar;
    }
    const logProbabilities = tf.logSoftmax(rows);
    // Picking each row's target by a one-hot mask keeps the gradient a plain multiply.
    const picked = logProbabilities.mul(tf.oneHot(labels, classes)).sum(1);
    return picked.mean().neg() as tf.Scalar;
  });
}
