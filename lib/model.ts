// The one interface every language model in lib/ implements (makemore's idea): training, evaluation
// and generation are written once, against it, and each lecture swaps only the model.
import * as tf from "@tensorflow/tfjs";

export interface ModelOutput {
  /**
   * Scores of the next token: softmax turns them into probabilities. [B, vocabSize] for a model that
   * predicts one token after its context (bigram, MLP); [B, T, vocabSize] for one that predicts the
   * next token at every position of its input (GPT).
   */
  logits: tf.Tensor;
  /** Mean cross-entropy of the logits against the targets, when targets were given. */
  loss?: tf.Scalar;
}

export interface ForwardOptions {
  /**
   * True while training: dropout drops, BatchNorm uses (and updates) batch statistics. False (the
   * default) for evaluation and generation, as PyTorch's `model.eval()`.
   */
  training?: boolean;
}

export interface LanguageModel {
  /**
   * How many previous tokens the model reads: a model with a fixed context (bigram 1, MLP 3) needs
   * exactly this many; a model that reads up to it (GPT) takes any T from 1 to blockSize.
   */
  readonly blockSize: number;
  /**
   * idx [B, T] int32 token indices -> logits; with targets ([B] for a fixed-context model, [B, T] for
   * one that predicts every position), also the loss.
   */
  forward(idx: tf.Tensor, targets?: tf.Tensor, options?: ForwardOptions): ModelOutput;
  /** The tensors that training changes. */
  parameters(): tf.Variable[];
}

/** How many numbers the model learns: the sum of its parameters' sizes. */
export function countParameters(model: LanguageModel): number {
  return model.parameters().reduce((total, p) => total + p.size, 0);
}
