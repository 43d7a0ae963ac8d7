// Losses shared by every model.
import * as tf from "@tensorflow/tfjs";
import { fusedCrossEntropy } from "./engine";

/**
 * Mean cross-entropy of `logits` [N, C] (or [B, T, C]) against integer `targets` [N] (or [B, T]):
 *
 *   loss = -mean_i log softmax(logits_i)[targets_i],   log softmax(z)_j = z_j - log sum_k exp(z_k)
 *
 * logSoftmax subtracts each row's maximum before exp: exp(100) overflows float32, exp(100 - 100) does not.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const rows = logits.rank === 2 ? logits : logits.reshape([-1, classes]); // [N, C]
    const labels = targets.rank === 1 && targets.dtype === "int32" ? targets : targets.reshape([-1]).toInt(); // [N]
    if (rows.shape[0] !== labels.shape[0]) {
      throw new Error(`crossEntropy: ${rows.shape[0]} rows of logits but ${labels.shape[0]} targets.`);
    }
    // The engine may run the lines below as one kernel (same numbers, tested); see engine/fused-ops.ts.
    const fused = fusedCrossEntropy(rows, labels);
    if (fused) return fused;
    const logProbabilities = tf.logSoftmax(rows); // [N, C]
    const picked = logProbabilities.mul(tf.oneHot(labels, classes)).sum(1); // [N]: log p of each target
    return picked.mean().neg() as tf.Scalar;
  });
}
