// The engine's plan for running a list of lecture layers (lib/layers.ts's Sequential and
// SequentialLanguageModel call runLayers): in training, each Linear (no bias) -> BatchNorm1d (-> Tanh)
// run goes through one fused kernel (linear-batchnorm-kernels.ts), lecture 07's Linear ->
// PositionwiseBatchNorm1d (-> Tanh) too (the kernel's statistics per position), and a BatchNorm1d on its own
// through one kernel each way (batchnorm-kernels.ts), where the engine has them; every other layer,
// and everything outside training, runs its own `forward`. The numbers are the layers' own (the tests
// compare both paths on the CPU backend); each layer still keeps its `out` (and its `outGrad` with
// `retainGrad`), set here through the layers' own bookkeeping (keepOutput). A Linear or BatchNorm1d
// with `retainGrad` is not fused into a block: autograd needs its output as a step of its own.
// A Flatten or FlattenConsecutive right before a fused block (lecture 07's levels) only gives the same
// numbers another shape, which the block's kernel takes as an attribute: the layer's `out` is still
// made (x's data in that shape), but no Reshape runs for it, nor for the block's rank-3 input and
// outputs, forward or backward (18 Reshapes per step of lecture 07's model before).
// A Linear with a bias (lecture 07's last layer, to the logits) runs as one kernel each way too
// (linear-kernels.ts), in place of its matmul and Add forward and their three kernels backward.
// The layer classes live in lib/tensor-layers.ts, which imports nothing from the engine, so that
// this module can know them without an import cycle (lib/layers.ts's Sequential imports runLayers).
import * as tf from "@tensorflow/tfjs";
import { BatchNorm1d, Flatten, FlattenConsecutive, Linear, PositionwiseBatchNorm1d, Tanh, keepOutput, type TensorLayer } from "../tensor-layers";
import type { ForwardOptions } from "../model";
import { fusedBatchNormTraining } from "./batchnorm-kernels";
import { fusedBlocksAvailable, fusedLinearBatchNormTraining } from "./linear-batchnorm-kernels";
import { fusedLinearBias } from "./linear-kernels";

/** The layers one after another on x, as `layers.reduce((h, layer) => layer.forward(h, options), x)` gives. */
export function runLayers(layers: readonly TensorLayer[], x: tf.Tensor, options: ForwardOptions): tf.Tensor {
  let h = x;
  for (let i = 0; i < layers.length; ) {
    const fused = options.training ? fusedBlock(layers, i, h) ?? fusedBatchNorm(layers[i], h) ?? fusedLinear(layers[i], h) : undefined;
    if (fused) {
      h = fused.output;
      i += fused.layers;
    } else {
      h = layers[i].forward(h, options);
      i++;
    }
  }
  return h;
}

interface Fused {
  output: tf.Tensor;
  /** How many layers it stands for. */
  layers: number;
}

/** [..., C] as rows [N, C]: the kernels' statistics over the rows are BatchNorm's over every leading dim. */
function asRows(x: tf.Tensor, columns: number): { rows: tf.Tensor; back: (t: tf.Tensor, columns: number) => tf.Tensor } {
  if (x.rank === 2) return { rows: x, back: (t) => t };
  return { rows: x.reshape([-1, columns]), back: (t, outColumns) => t.reshape([...x.shape.slice(0, -1), outColumns]) };
}

/**
 * layers[i..] as one fused Linear -> BatchNorm1d (-> Tanh) block on x, if they form one and the engine
 * has the kernel; a Flatten or FlattenConsecutive at i, right before such a block, goes with it.
 */
function fusedBlock(layers: readonly TensorLayer[], i: number, x: tf.Tensor): Fused | undefined {
  const first = layers[i];
  const flatten = (first instanceof Flatten || first instanceof FlattenConsecutive) && !first.retainGrad ? first : undefined;
  const reshape = flatten ? 1 : 0;
  const [linear, norm, activation] = layers.slice(i + reshape, i + reshape + 3);
  if (!(linear instanceof Linear && !linear.bias) || linear.retainGrad || norm?.retainGrad) return undefined;
  if (!(norm instanceof BatchNorm1d || norm instanceof PositionwiseBatchNorm1d) || !fusedBlocksAvailable()) return undefined;
  // The block reads x in the Flatten's output shape (which also reports a wrong shape), and its
  // gradient comes back in x's; the Flatten's `out` is x's data in that shape, with no kernel run.
  const shape = flatten ? flatten.outputShape(x.shape) : x.shape;
  const statistics = blockStatistics(norm, shape);
  const tanh = activation instanceof Tanh;
  const attrs = statistics && { eps: statistics.eps, momentum: statistics.momentum, tanh, positions: statistics.positions, shape };
  const fused = statistics && attrs && fusedLinearBatchNormTraining(x, linear.weight, statistics, attrs);
  if (!fused) return undefined; // the layers run one by one
  if (flatten) keepOutput(flatten, sameData(x, shape));
  keepOutput(linear, fused.h);
  if (!tanh) return { output: keepOutput(norm, fused.y), layers: reshape + 2 };
  keepOutput(norm, fused.z);
  return { output: keepOutput(activation, fused.y), layers: reshape + 3 };
}

/** x's numbers in another shape, as a Reshape gives them (the same data, counted once more), without its kernel launch. */
function sameData(x: tf.Tensor, shape: number[]): tf.Tensor {
  tf.backend().incRef(x.dataId);
  return tf.engine().makeTensorFromTensorInfo({ dataId: x.dataId, shape, dtype: x.dtype });
}

/**
 * The numbers a fused block's BatchNorm needs: a BatchNorm1d's (statistics over every row, positions 1),
 * or a PositionwiseBatchNorm1d's on x [B, T, C] with T = its positions (gamma and beta its own, the
 * running statistics [T * C] and eps and momentum of its `statistics`); undefined for any other layer.
 */
function blockStatistics(norm: TensorLayer | undefined, shape: number[]) {
  if (norm instanceof BatchNorm1d) return { ...pick(norm), positions: 1 };
  if (!(norm instanceof PositionwiseBatchNorm1d) || norm.statistics.retainGrad) return undefined;
  if (norm.positions !== (shape.length === 3 ? shape[1] : shape.length === 2 ? 1 : -1)) return undefined; // its own forward reports the shape
  return { ...pick(norm.statistics), gamma: norm.gamma, beta: norm.beta, positions: norm.positions };
}

function pick({ gamma, beta, runningMean, runningVar, eps, momentum }: BatchNorm1d) {
  return { gamma, beta, runningMean, runningVar, eps, momentum };
}

/** A BatchNorm1d in training as one kernel each way, if x fits (else its forward runs, and reports what does not). */
function fusedBatchNorm(norm: TensorLayer, x: tf.Tensor): Fused | undefined {
  if (!(norm instanceof BatchNorm1d) || x.rank < 2 || x.rank > 3 || x.shape[x.rank - 1] !== norm.dim) return undefined;
  const { rows, back } = asRows(x, norm.dim);
  if (rows.shape[0] < 2) return undefined;
  const running = { mean: norm.runningMean, variance: norm.runningVar };
  const y = fusedBatchNormTraining(rows, norm.gamma, norm.beta, running, { eps: norm.eps, momentum: norm.momentum });
  return y && { output: keepOutput(norm, back(y, norm.dim)), layers: 1 };
}

/** A Linear with a bias in training on x [B, in] as one kernel each way, if it fits (else its forward runs). */
function fusedLinear(linear: TensorLayer, x: tf.Tensor): Fused | undefined {
  if (!(linear instanceof Linear && linear.bias) || linear.retainGrad) return undefined;
  const y = fusedLinearBias(x, linear.weight, linear.bias);
  return y && { output: keepOutput(linear, y), layers: 1 };
}
