// Optimizers: how a parameter moves once its gradient is known. train() calls `step` once per
// training step, inside the step's tf.tidy.
import * as tf from "@tensorflow/tfjs";
import { fusedSgdUpdate } from "./engine/fused-ops";

export interface Optimizer {
  /** Moves each parameter against its gradient (grads[i] belongs to parameters[i]), in place. */
  step(parameters: tf.Variable[], grads: tf.Tensor[], learningRate: number): void;
}

/** Plain stochastic gradient descent, the lectures' `p.data += -lr * p.grad`. */
export class SGD implements Optimizer {
  step(parameters: tf.Variable[], grads: tf.Tensor[], learningRate: number): void {
    parameters.forEach((p, i) => {
      // p - lr * grad; the engine may compute it in one kernel (engine/fused-ops.ts).
      p.assign(fusedSgdUpdate(p, grads[i], learningRate) ?? p.sub(grads[i].mul(learningRate)));
    });
  }
}
