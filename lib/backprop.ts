// Lecture 06 (becoming a backprop ninja): a gradient written by hand, held against autograd's, and
// the two one-line backward passes the lecture derives. The notebook writes each of them first.
import * as tf from "@tensorflow/tfjs";

export interface Comparison {
  name: string;
  /** Every element equal, bit for bit. */
  exact: boolean;
  /** Every element within PyTorch's allclose: |ours - theirs| <= 1e-8 + 1e-5 |theirs|. */
  approximate: boolean;
  /** The largest |ours - theirs|. */
  maxDiff: number;
  /** The lecture's line: `name | exact: ... | approximate: ... | maxdiff: ...`. */
  line: string;
}

/**
 * The lecture's `cmp(s, dt, t)`: compares a gradient computed by hand (`ours`) with autograd's. Shapes
 * must match exactly: a gradient of the wrong shape is a bug, even where broadcasting would hide it.
 */
export function cmp(name: string, ours: tf.Tensor, autograd: tf.Tensor): Comparison {
  if (!tf.util.arraysEqual(ours.shape, autograd.shape)) {
    throw new Error(`cmp(${name}): our gradient has shape [${ours.shape}], autograd's [${autograd.shape}]: they must match.`);
  }
  const a = ours.dataSync();
  const b = autograd.dataSync();
  let exact = true;
  let approximate = true;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (!(a[i] === b[i])) exact = false; // NaN is never equal, as torch.all(dt == t.grad)
    if (!(diff <= 1e-8 + 1e-5 * Math.abs(b[i]))) approximate = false;
    if (diff > maxDiff || Number.isNaN(diff)) maxDiff = Number.isNaN(diff) ? NaN : diff;
  }
  const line = `${name.padEnd(15)} | exact: ${String(exact).padEnd(5)} | approximate: ${String(approximate).padEnd(5)} | maxdiff: ${maxDiff}`;
  return { name, exact, approximate, maxDiff, line };
}

/**
 * Exercise 2: d loss / d logits of the mean cross-entropy, in one expression:
 *
 *   dlogits = (softmax(logits) - onehot(Y)) / n
 *
 * logits [n, C], Y [n] int32.
 */
export function crossEntropyBackward(logits: tf.Tensor2D, Y: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, classes] = logits.shape;
    return tf.softmax(logits).sub(tf.oneHot(Y, classes)).div(n) as tf.Tensor2D;
  });
}

/**
 * Exercise 3: d loss / d x of BatchNorm in training (the batch's statistics, Bessel's n - 1 in the
 * variance, as the lecture), given the gradient of its output:
 *
 *   dx = gain * varInv / n * (n * dy - sum(dy) - n / (n - 1) * xhat * sum(dy * xhat))
 *
 * with sums over the batch; xhat = (x - mean) * varInv are the normalised inputs (the lecture's bnraw),
 * varInv = (var + eps)^-0.5 [1, C], gain [1, C], dy [n, C].
 */
export function batchNormBackward(dy: tf.Tensor2D, xhat: tf.Tensor2D, gain: tf.Tensor, varInv: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const n = dy.shape[0];
    if (n < 2) throw new Error(`batchNormBackward needs a batch of at least 2 rows (the variance divides by n - 1), got ${n}.`);
    const sumDy = dy.sum(0, true);
    const sumDyXhat = dy.mul(xhat).sum(0, true);
    return gain.mul(varInv).div(n).mul(dy.mul(n).sub(sumDy).sub(xhat.mul(n / (n - 1)).mul(sumDyXhat))) as tf.Tensor2D;
  });
}
