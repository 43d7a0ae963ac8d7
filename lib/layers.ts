// Lecture 04's layers, shaped like PyTorch's torch.nn: Linear, BatchNorm1d, Tanh, Embedding, Flatten
// and lecture 07's FlattenConsecutive (tensor-layers.ts), Sequential, and a model that stacks them
// (SequentialLanguageModel), with the lecture's deep net built from it (deepMLP).
import * as tf from "@tensorflow/tfjs";
import { runLayers } from "./engine";
import { crossEntropy } from "./losses";
import { countParameters, type ForwardOptions, type LanguageModel, type ModelOutput } from "./model";
import { Generator } from "./random";
import { BatchNorm1d, Embedding, Flatten, Linear, Tanh, TensorLayer, checkSize } from "./tensor-layers";

export { BatchNorm1d, Embedding, Flatten, FlattenConsecutive, Linear, PositionwiseBatchNorm1d, Tanh, TensorLayer, gradientTap } from "./tensor-layers";
export type { BatchNormOptions, LinearOptions } from "./tensor-layers";

/**
 * Layers applied one after another. The engine runs the list (runLayers): in training it may run a
 * Linear -> BatchNorm1d -> Tanh run as one kernel, with the same numbers and every layer's `out` kept.
 */
export class Sequential extends TensorLayer {
  constructor(readonly layers: TensorLayer[]) {
    super();
  }

  protected compute(x: tf.Tensor, options: ForwardOptions): tf.Tensor {
    return runLayers(this.layers, x, options);
  }

  parameters(): tf.Variable[] {
    return this.layers.flatMap((layer) => layer.parameters());
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
    super.dispose();
  }
}

/** A language model made of layers: idx [B, blockSize] -> logits [B, vocabSize] (the last layer's output; run as Sequential's). */
export class SequentialLanguageModel implements LanguageModel {
  constructor(readonly blockSize: number, readonly layers: TensorLayer[]) {
    checkSize("SequentialLanguageModel", { blockSize });
  }

  forward(idx: tf.Tensor, targets?: tf.Tensor, options: ForwardOptions = {}): ModelOutput {
    if (idx.rank !== 2 || idx.shape[1] !== this.blockSize || idx.dtype !== "int32") {
      throw new Error(`SequentialLanguageModel.forward: idx must be int32 of shape [B, ${this.blockSize}] (got ${idx.dtype} [${idx.shape}]).`);
    }
    return tf.tidy(() => {
      const logits = runLayers(this.layers, idx, options); // [B, vocabSize]
      return targets ? { logits, loss: crossEntropy(logits, targets) } : { logits };
    });
  }

  parameters(): tf.Variable[] {
    return this.layers.flatMap((layer) => layer.parameters());
  }

  numParameters(): number {
    return countParameters(this);
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}

export interface DeepMLPConfig {
  vocabSize: number;
  blockSize: number;
  nEmbd: number;
  /** Width of every hidden layer (lecture: 100). */
  nHidden: number;
  /** How many Linear -> (BatchNorm1d ->) Tanh blocks (lecture: 5). */
  nLayers?: number;
  /** Put a BatchNorm1d after every Linear (default true); without it, the Linear layers get biases. */
  batchNorm?: boolean;
  /** The Linear layers' weight gain: 5/3 (the default) is Kaiming's for tanh. */
  gain?: number;
}

/**
 * The lecture's deeper net: embedding, flatten, then nLayers x (Linear(no bias) -> BatchNorm1d -> Tanh)
 * of width nHidden, then Linear -> BatchNorm1d to the logits. The last layer starts 10x smaller (its
 * BatchNorm gamma, or without BatchNorm its weight), so that the first predictions are nearly uniform.
 */
export function deepMLP(config: DeepMLPConfig, generator: Generator): SequentialLanguageModel {
  const { vocabSize, blockSize, nEmbd, nHidden, nLayers = 5, batchNorm = true, gain = 5 / 3 } = config;
  checkSize("deepMLP", { vocabSize, blockSize, nEmbd, nHidden, nLayers });
  const layers: TensorLayer[] = [new Embedding(vocabSize, nEmbd, generator), new Flatten()];
  let width = blockSize * nEmbd;
  for (let i = 0; i < nLayers; i++) {
    layers.push(new Linear(width, nHidden, { generator, bias: !batchNorm, gain }));
    if (batchNorm) layers.push(new BatchNorm1d(nHidden));
    layers.push(new Tanh());
    width = nHidden;
  }
  const last = new Linear(width, vocabSize, { generator, bias: !batchNorm, gain });
  layers.push(last);
  if (batchNorm) {
    const norm = new BatchNorm1d(vocabSize);
    tf.tidy(() => norm.gamma.assign(tf.fill([vocabSize], 0.1)));
    layers.push(norm);
  } else {
    tf.tidy(() => last.weight.assign(last.weight.mul(0.1)));
  }
  return new SequentialLanguageModel(blockSize, layers);
}
