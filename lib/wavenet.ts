// Lecture 07's hierarchical model (WaveNet-like, van den Oord et al. 2016): the context's characters
// fused two at a time, level by level, and the same model run as dilated causal convolutions over a
// whole sequence at once.
import * as tf from "@tensorflow/tfjs";
import { BatchNorm1d, Embedding, Flatten, FlattenConsecutive, Linear, PositionwiseBatchNorm1d, SequentialLanguageModel, Tanh, TensorLayer } from "./layers";
import { Generator } from "./random";

export interface WaveNetConfig {
  vocabSize: number;
  /** The context length: a power of 2, one level of fusing per factor 2 (lecture: 8, three levels). */
  blockSize: number;
  /** Embedding size (lecture: 24). */
  nEmbd: number;
  /** Width of every level (lecture: 128). */
  nHidden: number;
}

/**
 * The BatchNorm of each level: "fixed" (statistics over dims (0, 1), the library's BatchNorm1d) or
 * "bug" (the lecture's first version, statistics over dim 0 only: one per position and channel,
 * PositionwiseBatchNorm1d).
 */
export type WaveNetBatchNorm = "fixed" | "bug";

/**
 * Embedding, then log2(blockSize) x (FlattenConsecutive(2) -> Linear(no bias) -> BatchNorm1d -> Tanh),
 * then Linear to the logits, its weight scaled by 0.1 (the first predictions nearly uniform). The
 * weights are drawn in that order from `generator`, as the lecture's `torch.randn` calls: the
 * embedding, then each Linear's weight (randn / sqrt(fanIn), biases zeros without a draw).
 */
export function wavenet(config: WaveNetConfig, generator: Generator, batchNorm: WaveNetBatchNorm = "fixed"): SequentialLanguageModel {
  const { vocabSize, blockSize, nEmbd, nHidden } = config;
  const levels = Math.log2(blockSize);
  if (!Number.isInteger(levels) || levels < 1) throw new Error(`wavenet: blockSize must be a power of 2 >= 2 (got ${blockSize}).`);
  const layers: TensorLayer[] = [new Embedding(vocabSize, nEmbd, generator)]; // [B, 8, nEmbd]
  let width = nEmbd;
  for (let i = 0; i < levels; i++) {
    // [B, T, C] -> [B, T/2, 2C] -> [B, T/2, nHidden] (the last level: [B, nHidden])
    const positions = blockSize / 2 ** (i + 1);
    const norm = batchNorm === "bug" ? new PositionwiseBatchNorm1d(positions, nHidden) : new BatchNorm1d(nHidden);
    layers.push(new FlattenConsecutive(2), new Linear(2 * width, nHidden, { generator, bias: false }), norm, new Tanh());
    width = nHidden;
  }
  layers.push(lessConfident(new Linear(nHidden, vocabSize, { generator }))); // [B, vocabSize]
  return new SequentialLanguageModel(blockSize, layers);
}

/**
 * Lecture 07's baseline: lecture 04's layers with the whole context flattened at once,
 * Embedding -> Flatten [B, blockSize * nEmbd] -> Linear(no bias) -> BatchNorm1d -> Tanh -> Linear, the
 * last weight scaled by 0.1; drawn in that order from `generator`, as the lecture's.
 */
export function flatMLP(config: WaveNetConfig, generator: Generator): SequentialLanguageModel {
  const { vocabSize, blockSize, nEmbd, nHidden } = config;
  const layers: TensorLayer[] = [
    new Embedding(vocabSize, nEmbd, generator), new Flatten(), // [B, blockSize * nEmbd]
    new Linear(blockSize * nEmbd, nHidden, { generator, bias: false }), new BatchNorm1d(nHidden), new Tanh(), // [B, nHidden]
  ];
  layers.push(lessConfident(new Linear(nHidden, vocabSize, { generator }))); // [B, vocabSize]
  return new SequentialLanguageModel(blockSize, layers);
}

/** The last layer's weight scaled by 0.1: the first predictions nearly uniform. */
function lessConfident(last: Linear): Linear {
  tf.tidy(() => last.weight.assign(last.weight.mul(0.1)));
  return last;
}

/**
 * The same model, in evaluation mode, as convolutions: idx [B, S] (S >= blockSize) -> logits
 * [B, S - blockSize + 1, vocabSize], where position j's logits are the model's for the context
 * idx[:, j .. j + blockSize). Each FlattenConsecutive(n) -> Linear pair is a convolution with kernel n
 * and dilation d (1, then 2, then 4 ...): output t fuses the inputs t, t + d, ..., t + (n - 1) d, which
 * is what the hierarchical model fuses, but computed once for all the windows that share it.
 */
export function convolutionalForward(model: SequentialLanguageModel, idx: tf.Tensor): tf.Tensor {
  if (idx.rank !== 2 || idx.dtype !== "int32" || (idx.shape[1] ?? 0) < model.blockSize) {
    throw new Error(`convolutionalForward: idx must be int32 of shape [B, S] with S >= ${model.blockSize} (got ${idx.dtype} [${idx.shape}]).`);
  }
  return tf.tidy(() => {
    let h: tf.Tensor = idx;
    let dilation = 1;
    let kernel = 0; // > 0 right after a FlattenConsecutive: the next Linear is a convolution
    for (const layer of model.layers) {
      if (layer instanceof FlattenConsecutive) {
        kernel = layer.n;
      } else if (layer instanceof Linear && kernel > 0) {
        const C = h.shape[2] as number; // h [B, S', C]
        const filter = layer.weight.reshape([kernel, C, layer.fanOut]); // the rows of W, one block per fused input
        h = tf.conv1d(h as tf.Tensor3D, filter as tf.Tensor3D, 1, "valid", "NWC", dilation); // [B, S' - (kernel - 1) dilation, fanOut]
        if (layer.bias) h = h.add(layer.bias);
        dilation *= kernel;
        kernel = 0;
      } else if (layer instanceof Embedding || layer instanceof BatchNorm1d || layer instanceof Tanh || layer instanceof Linear) {
        h = layer.forward(h, { training: false }); // position by position: the same on [B, S', C]
      } else {
        throw new Error(`convolutionalForward: no convolutional form for ${layer.constructor.name}; the model must be wavenet()'s.`);
      }
    }
    // A copy: `h` is also the last layer's kept `out`, which its next forward frees.
    return h.clone(); // [B, S - blockSize + 1, vocabSize]
  });
}
