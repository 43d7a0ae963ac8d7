// The training step of lecture 05's GPT at the nanoGPT CPU recipe's shapes (vocab 65, block 64,
// batch 12, 4 layers, 4 heads, nEmbd 128, dropout 0), measured on the lecture's own model (lib/gpt.ts)
// with AdamW and gradient clipping, through `trainStep`: the step `train()` runs in notebook 05.
import * as tf from "@tensorflow/tfjs";
import { GPT } from "../lib/gpt";
import { AdamW, ClipGradNorm } from "../lib/optim";
import { Generator } from "../lib/random";
import { trainStep } from "../lib/train";

export interface GPTShape {
  vocabSize: number;
  blockSize: number;
  batchSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

export const NANOGPT_CPU_RECIPE: GPTShape = { vocabSize: 65, blockSize: 64, batchSize: 12, nLayer: 4, nHead: 4, nEmbd: 128 };

/** A model, its optimizer and a fixed batch of random tokens; `step()` runs one training step and returns the loss. */
export function gptTrainer(shape: GPTShape = NANOGPT_CPU_RECIPE, seed = 1337) {
  const random = new Generator(seed);
  const { batchSize, ...config } = shape;
  const model = new GPT({ ...config, dropout: 0 }, random);
  const adamW = new AdamW({ weightDecay: 0.1 });
  const optimizer = new ClipGradNorm(adamW, 1);
  const tokens = () => Array.from({ length: batchSize * shape.blockSize }, () => random.integer(shape.vocabSize));
  const inputs = tf.tensor2d(tokens(), [batchSize, shape.blockSize], "int32");
  const targets = tf.tensor2d(tokens(), [batchSize, shape.blockSize], "int32");
  const step = (): number => trainStep(model, inputs, targets, 1e-3, optimizer);
  const dispose = () => {
    model.dispose();
    adamW.dispose();
    tf.dispose([inputs, targets]);
  };
  return { step, dispose, model };
}
