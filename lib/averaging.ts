// Lecture 05's "mathematical trick in self-attention": token t may read only tokens 0..t, and the
// simplest way to read them is their average (a bag of words). Three ways to compute the same thing,
// each closer to attention: x [B, T, C] -> xbow [B, T, C] with xbow[b, t] = mean(x[b, 0..t]).
import * as tf from "@tensorflow/tfjs";

/** 1. Two loops, position by position: clear, and slow. */
export function averagePastLoops(x: tf.Tensor3D): tf.Tensor3D {
  const [B, T, C] = x.shape;
  const values = x.arraySync();
  const out = values.map((rows) =>
    rows.map((_, t) => {
      const mean = new Array<number>(C).fill(0);
      for (let s = 0; s <= t; s++) for (let c = 0; c < C; c++) mean[c] += rows[s][c] / (t + 1);
      return mean;
    }),
  );
  return tf.tensor3d(out, [B, T, C]);
}

/** 2. One matrix multiply: row t of the lower-triangular weights holds 1/(t+1) at columns 0..t. */
export function averagePastTril(x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const T = x.shape[1];
    const tril = tf.linalg.bandPart(tf.ones([T, T]), -1, 0); // [T, T] 1 on and below the diagonal
    const weights = tril.div(tril.sum(1, true)); // [T, T] each row sums to 1
    return tf.matMul(weights.expandDims(0).tile([x.shape[0], 1, 1]), x) as tf.Tensor3D; // [B, T, T] @ [B, T, C] -> [B, T, C]
  });
}

/**
 * 3. Softmax of a masked matrix of scores: zeros where allowed, -Infinity in the future. With all-zero
 * scores softmax gives the plain average again; self-attention is this with scores computed from the data.
 */
export function averagePastSoftmax(x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const T = x.shape[1];
    const tril = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    const scores = tf.where(tril.equal(1), tf.zeros([T, T]), tf.fill([T, T], -Infinity)); // [T, T]
    const weights = tf.softmax(scores); // [T, T] 1/(t+1) on and below the diagonal, 0 above
    return tf.matMul(weights.expandDims(0).tile([x.shape[0], 1, 1]), x) as tf.Tensor3D; // [B, T, C]
  });
}
