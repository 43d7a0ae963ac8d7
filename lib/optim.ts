// Optimizers: how a parameter moves once its gradient is known. train() calls `step` once per
// training step, inside the step's tf.tidy.
import * as tf from "@tensorflow/tfjs";
import { fusedAdamWUpdates, fusedScale, fusedSumOfSquares, fusedSgdUpdates } from "./engine";

export interface Optimizer {
  /** Moves each parameter against its gradient (grads[i] belongs to parameters[i]), in place. */
  step(parameters: tf.Variable[], grads: tf.Tensor[], learningRate: number): void;
}

/** Plain stochastic gradient descent, the lectures' `p.data += -lr * p.grad`. */
export class SGD implements Optimizer {
  step(parameters: tf.Variable[], grads: tf.Tensor[], learningRate: number): void {
    // p - lr * grad; the engine may compute them all in one kernel (engine/fused-ops.ts).
    const fused = fusedSgdUpdates(parameters, grads, learningRate);
    parameters.forEach((p, i) => p.assign(fused?.[i] ?? p.sub(grads[i].mul(learningRate))));
  }
}

export interface AdamWOptions {
  /** Decay rates of the running means of the gradient and of its square (PyTorch's default [0.9, 0.999]). */
  betas?: [number, number];
  /** Keeps the division finite where the gradient has been ~0 (default 1e-8). */
  eps?: number;
  /** Fraction of each weight matrix removed per unit of learning rate (PyTorch's default 0.01). */
  weightDecay?: number;
}

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter, "Decoupled Weight Decay Regularization"),
 * PyTorch's `torch.optim.AdamW`, which lecture 05 trains with. Per parameter p with gradient g, at step t:
 *
 *   m = beta1 * m + (1 - beta1) * g            running mean of the gradient (momentum)
 *   v = beta2 * v + (1 - beta2) * g^2          running mean of its square (its scale)
 *   p = p - lr * weightDecay * p               decay: shrinks the weights, not through the gradient
 *   p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 *
 * Dividing by sqrt(v) gives every parameter a step of about lr, whatever its gradient's scale. The
 * (1 - beta^t) terms undo the pull towards 0 of m and v, which start at 0.
 * As nanoGPT does, weight decay applies only to tensors of rank >= 2 (the matmul weights and the
 * embedding tables): biases and LayerNorm gains are few, and pulling a gain towards 0 would fight
 * the normalisation rather than regularise anything.
 */
export class AdamW implements Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Steps taken so far (t in the formulas). */
  stepCount = 0;
  private readonly state = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();

  constructor(options: AdamWOptions = {}) {
    const [beta1, beta2] = options.betas ?? [0.9, 0.999];
    for (const [name, beta] of [["beta1", beta1], ["beta2", beta2]] as const) {
      if (!(beta >= 0 && beta < 1)) throw new Error(`AdamW: ${name} must be in [0, 1) (got ${beta}).`);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    if (!(this.eps > 0)) throw new Error(`AdamW: eps must be > 0 (got ${this.eps}).`);
    if (!(this.weightDecay >= 0)) throw new Error(`AdamW: weightDecay must be >= 0 (got ${this.weightDecay}).`);
  }

  step(parameters: tf.Variable[], grads: tf.Tensor[], learningRate: number): void {
    if (parameters.length !== grads.length) throw new Error(`AdamW: ${parameters.length} parameters but ${grads.length} gradients.`);
    this.stepCount++;
    const { beta1, beta2, eps } = this;
    const correction1 = 1 - beta1 ** this.stepCount;
    const correction2 = 1 - beta2 ** this.stepCount;
    // lr * (m / c1) / (sqrt(v / c2) + eps) = stepSize * m / (sqrt(v) + eps * sqrt(c2)): fewer kernels.
    const stepSize = (learningRate * Math.sqrt(correction2)) / correction1;
    const epsilon = eps * Math.sqrt(correction2);
    const decays = parameters.map((p) => (p.rank >= 2 ? 1 - learningRate * this.weightDecay : 1));
    tf.tidy(() => {
      const states = parameters.map((p) => this.stateOf(p));
      // The same formulas for every parameter in one kernel where the engine has it (engine/fused-ops.ts).
      const ms = states.map((s) => s.m);
      const vs = states.map((s) => s.v);
      const fused = fusedAdamWUpdates(parameters, grads, ms, vs, decays, { beta1, beta2, stepSize, epsilon });
      if (fused) {
        fused.forEach((updated, i) => [parameters[i], ms[i], vs[i]].forEach((variable, k) => variable.assign(updated[k])));
        return;
      }
      parameters.forEach((p, i) => {
        const [g, m, v, decay] = [grads[i], ms[i], vs[i], decays[i]];
        m.assign(m.mul(beta1).add(g.mul(1 - beta1)));
        v.assign(v.mul(beta2).add(g.square().mul(1 - beta2)));
        const decayed = decay !== 1 ? p.mul(decay) : p;
        p.assign(decayed.sub(m.div(v.sqrt().add(epsilon)).mul(stepSize)));
      });
    });
  }

  /** Frees the running means (m and v of every parameter). */
  dispose(): void {
    for (const { m, v } of this.state.values()) tf.dispose([m, v]);
    this.state.clear();
    this.stepCount = 0;
  }

  private stateOf(p: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let entry = this.state.get(p);
    if (!entry) {
      // Variables survive the step's tf.tidy; both start at 0, as in PyTorch.
      entry = { m: tf.variable(tf.zerosLike(p), false), v: tf.variable(tf.zerosLike(p), false) };
      this.state.set(p, entry);
    }
    return entry;
  }
}

/**
 * Gradient clipping around another optimizer, as PyTorch's `clip_grad_norm_` before `optimizer.step()`
 * (nanoGPT clips at 1.0): when the norm of all gradients together, sqrt(sum of every g^2), exceeds
 * `maxNorm`, every gradient is scaled by maxNorm / norm. One unlucky batch then cannot throw the
 * weights far; the direction of the step is kept.
 */
export class ClipGradNorm implements Optimizer {
  /** The gradients' norm at the last step, before clipping: a diagnostic worth plotting. */
  lastNorm = NaN;

  constructor(readonly optimizer: Optimizer, readonly maxNorm = 1) {
    if (!(maxNorm > 0)) throw new Error(`ClipGradNorm: maxNorm must be > 0 (got ${maxNorm}).`);
  }

  step(parameters: tf.Variable[], grads: tf.Tensor[], learningRate: number): void {
    // sum(g^2) over every gradient: one kernel where the engine has it (engine/fused-ops.ts).
    const norm = tf.tidy(() => (fusedSumOfSquares(grads) ?? tf.addN(grads.map((g) => g.square().sum()))).sqrt().dataSync()[0]);
    this.lastNorm = norm;
    if (!(norm > this.maxNorm)) {
      this.optimizer.step(parameters, grads, learningRate);
      return;
    }
    const scale = this.maxNorm / (norm + 1e-6); // PyTorch's clip coefficient
    tf.tidy(() => this.optimizer.step(parameters, fusedScale(grads, scale) ?? grads.map((g) => g.mul(scale)), learningRate));
  }

  /** Frees the wrapped optimizer's state, if it has any. */
  dispose(): void {
    (this.optimizer as { dispose?: () => void }).dispose?.();
  }
}
