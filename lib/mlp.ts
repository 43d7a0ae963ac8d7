// The MLP language model of Bengio et al. 2003 (lecture 03): look up a learned vector for each of
// the `blockSize` previous characters, concatenate them, one tanh hidden layer, then scores (logits)
// for the next character. (micrograd.ts has the `MLP` of lecture 00, a different class.)
//
//   emb    = C[X]                                   [B, blockSize, nEmbd]
//   h      = tanh(emb.view(B, blockSize * nEmbd) @ W1 + b1)   [B, nHidden]
//   logits = h @ W2 + b2                            [B, vocabSize]
import * as tf from "@tensorflow/tfjs";
import { crossEntropy } from "./losses";
import { countParameters, type ForwardOptions, type LanguageModel, type ModelOutput } from "./model";
import { Generator } from "./random";

export interface MLPConfig {
  vocabSize: number;
  /** Context length: how many previous characters the model reads. */
  blockSize: number;
  /** Size of each character's embedding vector. */
  nEmbd: number;
  /** Neurons in the hidden layer. */
  nHidden: number;
}

/**
 * Scales for the initial parameters, each drawn from randn and multiplied by its scale (default 1, as in
 * lecture 03). Lecture 04 starts with `{ W2: 0.01, b2: 0 }` so the first logits are near 0.
 */
export type MLPInit = Partial<Record<"C" | "W1" | "b1" | "W2" | "b2", number>>;

export class MLPLanguageModel implements LanguageModel {
  readonly config: MLPConfig;
  /** The embedding table [vocabSize, nEmbd]: row i is character i's vector. */
  readonly C: tf.Variable;
  readonly W1: tf.Variable;
  readonly b1: tf.Variable;
  readonly W2: tf.Variable;
  readonly b2: tf.Variable;

  constructor(config: MLPConfig, generator: Generator, init: MLPInit = {}) {
    for (const key of ["vocabSize", "blockSize", "nEmbd", "nHidden"] as const) {
      const value = config[key];
      if (!Number.isInteger(value) || value < 1) throw new Error(`MLPLanguageModel: ${key} must be an integer >= 1 (got ${value}).`);
    }
    for (const [name, scale] of Object.entries(init)) {
      if (!Number.isFinite(scale)) throw new Error(`MLPLanguageModel: the init scale of ${name} must be a finite number (got ${scale}).`);
    }
    this.config = { ...config };
    const { vocabSize, blockSize, nEmbd, nHidden } = config;
    // Drawn in the lecture's order from one generator, so a seed gives the lecture's kind of start.
    const parameter = (name: keyof MLPInit, shape: number[]) =>
      tf.tidy(() => tf.variable(generator.randn(shape).mul(init[name] ?? 1)));
    this.C = parameter("C", [vocabSize, nEmbd]);
    this.W1 = parameter("W1", [blockSize * nEmbd, nHidden]);
    this.b1 = parameter("b1", [nHidden]);
    this.W2 = parameter("W2", [nHidden, vocabSize]);
    this.b2 = parameter("b2", [vocabSize]);
  }

  get blockSize(): number {
    return this.config.blockSize;
  }

  forward(idx: tf.Tensor, targets?: tf.Tensor, _options?: ForwardOptions): ModelOutput {
    const { blockSize, nEmbd } = this.config;
    if (idx.rank !== 2 || idx.shape[1] !== blockSize || idx.dtype !== "int32") {
      throw new Error(`MLPLanguageModel.forward: idx must be int32 of shape [B, ${blockSize}] (got ${idx.dtype} [${idx.shape}]).`);
    }
    return tf.tidy(() => {
      const emb = tf.gather(this.C, idx); // [B, blockSize, nEmbd]
      const h = tf.tanh(emb.reshape([-1, blockSize * nEmbd]).matMul(this.W1).add(this.b1));
      const logits = h.matMul(this.W2).add(this.b2);
      return targets ? { logits, loss: crossEntropy(logits, targets) } : { logits };
    });
  }

  parameters(): tf.Variable[] {
    return [this.C, this.W1, this.b1, this.W2, this.b2];
  }

  numParameters(): number {
    return countParameters(this);
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}
