// Lecture 04's layers, shaped like PyTorch's torch.nn: Linear, BatchNorm1d, Tanh, Embedding and Flatten,
// and lecture 07's FlattenConsecutive and PositionwiseBatchNorm1d (its BatchNorm bug), each with `parameters()` and each keeping its last output (`out`)
// so that the diagnostics can look inside the network. They hold no engine code: lib/layers.ts (which
// re-exports them with Sequential) has the engine run lists of them (runLayers, lib/engine/layer-plan.ts).
import * as tf from "@tensorflow/tfjs";
import type { ForwardOptions } from "./model";
import { Generator } from "./random";

/**
 * An identity op (forward: y = x) whose backward pass hands the incoming gradient dL/dy to `record`
 * before passing it on unchanged. TensorFlow.js has no `retain_grad()`: tapping a tensor this way
 * gives the gradient of the loss with respect to it from the step's one backward pass.
 * `record` gets a tensor that lives only during the backward pass: clone and tf.keep it to hold it.
 */
export function gradientTap(x: tf.Tensor, record: (dy: tf.Tensor) => void): tf.Tensor {
  const identity = (input: tf.Tensor) => ({
    value: input.clone(), // shares memory with the input on WASM (no copy)
    gradFunc: (dy: tf.Tensor) => {
      record(dy);
      return dy;
    },
  });
  const tap = tf.customGrad(identity as unknown as Parameters<typeof tf.customGrad>[0]);
  return tap(x);
}

/** What every layer has (PyTorch's nn.Module; micrograd.ts has the scalar Layer of lecture 00): a forward pass, its parameters, and its last output for the diagnostics. */
export abstract class TensorLayer {
  /** The output of the last forward call, as the lecture's `layer.out` (freed by the next call). */
  out?: tf.Tensor;
  /**
   * PyTorch's `layer.out.retain_grad()`: when true, each backward pass through this layer stores the
   * gradient of the loss with respect to its output in `outGrad` (through a gradientTap).
   */
  retainGrad = false;
  /** d loss / d out from the last backward pass, when `retainGrad` is on (freed by the next one). */
  outGrad?: tf.Tensor;
  /**
   * Keep `out` (default true, for lecture 04's diagnostics). The GPT's layers turn it off: their
   * outputs are large and nothing reads them.
   */
  keepOut = true;

  /** The layer's computation; `forward` wraps it with the bookkeeping for the diagnostics. */
  protected abstract compute(x: tf.Tensor, options: ForwardOptions): tf.Tensor;

  /** `{ training: true }` while training: BatchNorm uses (and updates) batch statistics only then. */
  forward(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    return keepOutput(this, this.compute(x, options));
  }

  parameters(): tf.Variable[] {
    return [];
  }

  /** Frees the parameters, buffers and kept tensors. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    this.out?.dispose();
    this.outGrad?.dispose();
    this.out = this.outGrad = undefined;
  }

}

/**
 * `forward`'s bookkeeping for a layer's output y: the gradient tap when `retainGrad` is on, and `out`
 * (the previous one freed). Returns y, tapped. The engine's plan for a run of layers (runLayers) keeps
 * this way the outputs it computes for several layers at once.
 */
export function keepOutput(layer: TensorLayer, y: tf.Tensor): tf.Tensor {
  if (layer.retainGrad) {
    y = gradientTap(y, (dy) => {
      layer.outGrad?.dispose();
      layer.outGrad = tf.keep(dy.clone());
    });
  }
  if (!layer.keepOut) return y;
  layer.out?.dispose();
  layer.out = tf.keep(y); // survives the step's tf.tidy, freed by the next forward
  return y;
}

export interface LinearOptions {
  /** Draws the initial weights. */
  generator: Generator;
  /** Add a learned bias (default true). Not needed before a BatchNorm, whose own bias replaces it. */
  bias?: boolean;
  /** Multiplies the initial weights: 5/3 before a tanh (Kaiming), see `Linear` below. Default 1. */
  gain?: number;
  /**
   * The initial weights' standard deviation, instead of gain / sqrt(fanIn): GPT-2 draws every weight
   * with std 0.02 (lib/gpt.ts), whatever the layer's size.
   */
  std?: number;
  /**
   * Draw the bias as the lecture's raw tensors do, `b = randn(fanOut) * biasScale`, instead of starting
   * at zeros without a draw. With a TorchGenerator, `biasScale: 0` gives zeros but takes the lecture's
   * draws, so everything drawn after (the batches) is the lecture's too.
   */
  biasScale?: number;
}

/**
 * y = x @ W + b, x [..., fanIn] -> y [..., fanOut] (nn.Linear, with W stored as [fanIn, fanOut]).
 * W starts as randn * gain / sqrt(fanIn): each output then sums fanIn terms of variance gain^2 / fanIn,
 * so a unit-variance input gives an output of standard deviation `gain` (Kaiming He et al. 2015; the
 * gain makes up for what tanh squashes). With `std`, W starts as randn * std instead (GPT-2's 0.02).
 */
export class Linear extends TensorLayer {
  readonly weight: tf.Variable; // [fanIn, fanOut]
  readonly bias?: tf.Variable; // [fanOut]

  constructor(readonly fanIn: number, readonly fanOut: number, options: LinearOptions) {
    super();
    checkSize("Linear", { fanIn, fanOut });
    const gain = options.gain ?? 1;
    if (!Number.isFinite(gain)) throw new Error(`Linear: gain must be a finite number (got ${gain}).`);
    if (options.std !== undefined && !(options.std >= 0 && Number.isFinite(options.std))) throw new Error(`Linear: std must be a finite number >= 0 (got ${options.std}).`);
    if (options.std !== undefined && options.gain !== undefined) throw new Error("Linear: give gain or std, not both (std replaces gain / sqrt(fanIn)).");
    const std = options.std ?? gain / Math.sqrt(fanIn);
    this.weight = tf.tidy(() => tf.variable(options.generator.randn([fanIn, fanOut]).mul(std)));
    const biasScale = options.biasScale;
    if (biasScale !== undefined && !Number.isFinite(biasScale)) throw new Error(`Linear: biasScale must be a finite number (got ${biasScale}).`);
    if (options.bias ?? true) {
      this.bias = tf.tidy(() => tf.variable(biasScale === undefined ? tf.zeros([fanOut]) : options.generator.randn([fanOut]).mul(biasScale)));
    }
  }

  protected compute(x: tf.Tensor): tf.Tensor {
    if (x.rank === 2) {
      const y = x.matMul(this.weight); // [B, fanOut]
      return this.bias ? y.add(this.bias) : y;
    }
    // [..., fanIn] as rows [N, fanIn]: the engine's fast matmul takes 2-D operands.
    const rows = x.reshape([-1, this.fanIn]).matMul(this.weight); // [N, fanOut]
    const y = this.bias ? rows.add(this.bias) : rows;
    return y.reshape([...x.shape.slice(0, -1), this.fanOut]); // [..., fanOut]
  }

  parameters(): tf.Variable[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  /** The parameters with names under `prefix`, as PyTorch's state_dict: "prefix.weight", "prefix.bias". */
  namedParameters(prefix: string): [string, tf.Variable][] {
    return this.bias ? [[`${prefix}.weight`, this.weight], [`${prefix}.bias`, this.bias]] : [[`${prefix}.weight`, this.weight]];
  }
}

export interface BatchNormOptions {
  /** Added to the variance so that a constant column does not divide by 0 (default 1e-5). */
  eps?: number;
  /** Weight of each batch in the running statistics: running = (1 - m) running + m batch (default 0.1). */
  momentum?: number;
}

/**
 * Batch normalisation (Ioffe and Szegedy 2015), x [B, dim] -> [B, dim]: each column is made zero-mean,
 * unit-variance over the batch, then scaled and shifted by a learned gain (gamma) and bias (beta).
 * Training uses the batch's statistics and updates running ones; evaluation (one example at a time,
 * or a whole split) uses the running ones, so a prediction does not depend on the rest of its batch.
 */
export class BatchNorm1d extends TensorLayer {
  readonly eps: number;
  readonly momentum: number;
  readonly gamma: tf.Variable; // [dim], starts at 1
  readonly beta: tf.Variable; // [dim], starts at 0
  /** Buffers, not parameters: training updates them, gradients do not. */
  readonly runningMean: tf.Variable; // [dim], starts at 0
  readonly runningVar: tf.Variable; // [dim], starts at 1

  constructor(readonly dim: number, options: BatchNormOptions = {}) {
    super();
    checkSize("BatchNorm1d", { dim });
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    if (!(this.eps > 0)) throw new Error(`BatchNorm1d: eps must be > 0 (got ${this.eps}).`);
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`BatchNorm1d: momentum must be in [0, 1] (got ${this.momentum}).`);
    // tf.tidy frees the initial tensors each variable copies.
    this.gamma = tf.tidy(() => tf.variable(tf.ones([dim])));
    this.beta = tf.tidy(() => tf.variable(tf.zeros([dim])));
    this.runningMean = tf.tidy(() => tf.variable(tf.zeros([dim]), false));
    this.runningVar = tf.tidy(() => tf.variable(tf.ones([dim]), false));
  }

  protected compute(x: tf.Tensor, options: ForwardOptions): tf.Tensor {
    if (x.rank < 2 || x.rank > 3 || x.shape[x.rank - 1] !== this.dim) {
      throw new Error(`BatchNorm1d(${this.dim}): expected x of shape [B, ${this.dim}] or [B, T, ${this.dim}] (got [${x.shape}]).`);
    }
    if (x.rank === 2) return this.normalizeRows(x, options);
    // [B, T, C]: the statistics over dims (0, 1), every position of every example (lecture 07's fix);
    // as rows that is [B * T, C], the 2-D case.
    return this.normalizeRows(x.reshape([-1, this.dim]), options).reshape(x.shape); // [B, T, dim]
  }

  /** The 2-D case, x [N, dim]: statistics over the N rows. */
  private normalizeRows(x: tf.Tensor, { training = false }: ForwardOptions): tf.Tensor {
    if (!training) {
      const xhat = x.sub(this.runningMean).div(this.runningVar.add(this.eps).sqrt()); // [B, dim]
      return xhat.mul(this.gamma).add(this.beta); // [B, dim]
    }
    const B = x.shape[0];
    if (B < 2) throw new Error("BatchNorm1d: training needs a batch of at least 2 examples (the variance of one is 0).");
    const mean = x.mean(0); // [dim]
    const variance = x.sub(mean).square().mean(0); // [dim], divided by B (the paper's)
    const xhat = x.sub(mean).div(variance.add(this.eps).sqrt()); // [B, dim]
    const y = xhat.mul(this.gamma).add(this.beta); // [B, dim]
    // Running statistics, outside autograd's concern; the variance unbiased (divided by B - 1), as PyTorch.
    const m = this.momentum;
    this.runningMean.assign(this.runningMean.mul(1 - m).add(mean.mul(m)));
    this.runningVar.assign(this.runningVar.mul(1 - m).add(variance.mul((m * B) / (B - 1))));
    return y;
  }

  parameters(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  dispose(): void {
    super.dispose();
    this.runningMean.dispose();
    this.runningVar.dispose();
  }
}

/**
 * The lecture's BatchNorm bug as a layer: on [B, T, C] the mean and variance over dim 0 only, so one
 * statistic per (position, channel), running mean [T, C]; gamma and beta per channel, [C], as the
 * lecture's class (lecture 07, wavenet.ts's "bug" model). The statistics are the library's BatchNorm1d over T * C features (its own gamma 1
 * and beta 0, never trained), so the formula is written once.
 */
export class PositionwiseBatchNorm1d extends TensorLayer {
  readonly gamma: tf.Variable; // [dim], starts at 1
  readonly beta: tf.Variable; // [dim], starts at 0
  /** The per-(position, channel) normalization, with the running statistics [positions * dim]. */
  readonly statistics: BatchNorm1d;

  constructor(readonly positions: number, readonly dim: number) {
    super();
    this.statistics = new BatchNorm1d(positions * dim);
    this.gamma = tf.tidy(() => tf.variable(tf.ones([dim])));
    this.beta = tf.tidy(() => tf.variable(tf.zeros([dim])));
  }

  protected compute(x: tf.Tensor, options: ForwardOptions): tf.Tensor {
    const [B] = x.shape;
    if (x.size !== B * this.positions * this.dim || x.shape[x.rank - 1] !== this.dim) {
      throw new Error(`PositionwiseBatchNorm1d(${this.positions}, ${this.dim}): expected x of shape [B, ${this.positions}, ${this.dim}] (got [${x.shape}]).`);
    }
    const xhat = this.statistics.forward(x.reshape([B, -1]), options).reshape(x.shape); // [B, T, C], each (t, c) over the batch
    return xhat.mul(this.gamma).add(this.beta); // [B, T, C]
  }

  parameters(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  dispose(): void {
    super.dispose();
    this.statistics.dispose();
  }
}

export class Tanh extends TensorLayer {
  protected compute(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x); // same shape as x
  }
}

/** A lookup table [numEmbeddings, dim]: idx [B, T] int32 -> [B, T, dim], row idx[b, t] of the table. */
export class Embedding extends TensorLayer {
  readonly weight: tf.Variable; // [numEmbeddings, dim]

  constructor(readonly numEmbeddings: number, readonly dim: number, generator: Generator) {
    super();
    checkSize("Embedding", { numEmbeddings, dim });
    this.weight = tf.tidy(() => tf.variable(generator.randn([numEmbeddings, dim])));
  }

  protected compute(idx: tf.Tensor): tf.Tensor {
    return tf.gather(this.weight, idx); // [B, T, dim]
  }

  parameters(): tf.Variable[] {
    return [this.weight];
  }
}

/** [B, T, C] -> [B, T * C]: concatenates each example's vectors (a reshape, no copy). */
export class Flatten extends TensorLayer {
  protected compute(x: tf.Tensor): tf.Tensor {
    return x.reshape(this.outputShape(x.shape)); // [B, T * C]
  }

  /** The output's shape for an input of `shape`. */
  outputShape(shape: number[]): number[] {
    return [shape[0], tf.util.sizeFromShape(shape.slice(1))];
  }
}

/**
 * [B, T, C] -> [B, T / n, C * n]: concatenates each run of n consecutive vectors (lecture 07, a reshape,
 * no copy). With n = T it is Flatten, except that it then drops the length-1 middle dim: [B, T * C].
 */
export class FlattenConsecutive extends TensorLayer {
  constructor(readonly n: number) {
    super();
    checkSize("FlattenConsecutive", { n });
  }

  protected compute(x: tf.Tensor): tf.Tensor {
    return x.reshape(this.outputShape(x.shape));
  }

  /** The output's shape for an input of `shape` [B, T, C]. */
  outputShape(shape: number[]): number[] {
    if (shape.length !== 3) throw new Error(`FlattenConsecutive(${this.n}): expected x of shape [B, T, C] (got [${shape}]).`);
    const [B, T, C] = shape;
    if (T % this.n !== 0) throw new Error(`FlattenConsecutive(${this.n}): T = ${T} is not a multiple of ${this.n}; use a context length that is.`);
    if (T === this.n) return [B, C * this.n]; // [B, T * C], the lecture's squeeze(1)
    return [B, T / this.n, C * this.n]; // [B, T / n, C * n]
  }
}

/** Throws unless every size is an integer >= 1, naming the owner and the size. */
export function checkSize(owner: string, sizes: Record<string, number>): void {
  for (const [name, value] of Object.entries(sizes)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${owner}: ${name} must be an integer >= 1 (got ${value}).`);
  }
}
