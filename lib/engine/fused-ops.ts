// Fused versions of formulas the lecture code writes out in plain ops: one kernel where the active
// backend registers one (wasm-fixes.ts), `undefined` elsewhere so the caller runs its plain formula.
import * as tf from "@tensorflow/tfjs";
import { SOFTMAX_CROSS_ENTROPY } from "./wasm-fixes";

/** -mean(log softmax(rows)[i, labels[i]]) for rows [N, C] and int32 labels [N], as one kernel. */
export function fusedCrossEntropy(rows: tf.Tensor, labels: tf.Tensor): tf.Scalar | undefined {
  if (!tf.getKernel(SOFTMAX_CROSS_ENTROPY, tf.getBackend())) return undefined;
  return tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY, { logits: rows, targets: labels }) as tf.Scalar;
}
