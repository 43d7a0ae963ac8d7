// The one interface every language model in lib/ implements (makemore's idea): training, evaluation
// and sampling are written once, against it, and each lecture swaps only the model.
import * as tf from "@tensorflow/tfjs";

export interface ModelOutput {
  /** Scores of the next token, [B, vocabSize]: softmax turns them into probabilities. */
  logits: tf.Tensor;
  /** Mean cross-entropy of the logits against the targets, when targets were given. */
  loss?: tf.Scalar;
}

export interface LanguageModel {
  /** How many previous tokens (the context) the model reads to predict the next one. */
  readonly blockSize: number;
  /** idx [B, blockSize] int32 token indices -> logits; with targets [B], also the loss. */
  forward(idx: tf.Tensor, targets?: tf.Tensor): ModelOutput;
  /** The tensors that training changes. */
  parameters(): tf.Variable[];
}

/** How many numbers the model learns: the sum of its parameters' sizes. */
export function countParameters(model: LanguageModel): number {
  return model.parameters().reduce((total, p) => total + p.size, 0);
}
