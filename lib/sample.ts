// New words from a trained model: start from a context of '.', draw the next token from the model's
// probabilities, slide the context window, and stop at the next '.'.
import * as tf from "@tensorflow/tfjs";
import type { LanguageModel } from "./model";
import { Generator } from "./random";
import { BOUNDARY, CharTokenizer } from "./tokenizer";

/** `count` words sampled from `model`; `maxLength` guards against a model that never ends a word. */
export function sample(model: LanguageModel, tokenizer: CharTokenizer, generator: Generator, count: number, maxLength = 50): string[] {
  const boundary = tokenizer.encode(BOUNDARY)[0];
  const words: string[] = [];
  for (let n = 0; n < count; n++) {
    const context = new Array<number>(model.blockSize).fill(boundary);
    const out: number[] = [];
    while (out.length < maxLength) {
      const probabilities = tf.tidy(() => {
        const { logits } = model.forward(tf.tensor2d(context, [1, model.blockSize], "int32"));
        const vocabSize = logits.shape[logits.shape.length - 1];
        const rows = logits.reshape([-1, vocabSize]);
        const last = rows.slice([rows.shape[0] - 1, 0], [1, vocabSize]); // the prediction after the whole context
        return tf.softmax(last).dataSync();
      });
      const next = generator.multinomial(probabilities);
      if (next === boundary) break;
      out.push(next);
      context.shift();
      context.push(next);
    }
    words.push(tokenizer.decode(out));
  }
  return words;
}
