// Generation, written once for every LanguageModel: feed the context, turn the last position's
// logits into probabilities, draw the next token, append it, repeat. Names (lectures 01-04) and
// Shakespeare (lecture 05) both come out of this loop.
import * as tf from "@tensorflow/tfjs";
import type { LanguageModel } from "./model";
import { Generator } from "./random";
import { BOUNDARY, CharTokenizer } from "./tokenizer";

export interface GenerateOptions {
  /** Divides the logits before softmax: below 1 sharper (safer) text, above 1 more surprising text. */
  temperature?: number;
  /** A token that ends generation early (kept as the last token returned), e.g. the '.' after a name. */
  stopAt?: number;
}

/** Draws up to `maxNewTokens` tokens after `context` and returns them (without the context). */
export function generate(
  model: LanguageModel,
  context: number[],
  maxNewTokens: number,
  generator: Generator,
  options: GenerateOptions = {},
): number[] {
  const { temperature = 1, stopAt } = options;
  if (context.length === 0) throw new Error("generate: the context needs at least one token to start from.");
  // An int32 tensor would silently truncate 1.5 to 1 and NaN to 0: refuse what is not a token index.
  const bad = context.findIndex((token) => !(Number.isInteger(token) && token >= 0));
  if (bad >= 0) throw new Error(`generate: context[${bad}] is ${context[bad]}; token indices are whole numbers >= 0 (encode text with the tokenizer).`);
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 0)) throw new Error(`generate: maxNewTokens must be a whole number >= 0 (got ${maxNewTokens}).`);
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new Error(`generate: temperature must be a finite number > 0 (got ${temperature}).`);
  const tokens = [...context];
  for (let n = 0; n < maxNewTokens; n++) {
    // The model reads at most blockSize tokens: crop the context to the last ones.
    const window = tokens.slice(-model.blockSize);
    const probabilities = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d(window, [1, window.length], "int32")); // [1, V] or [1, T, V]
      const vocabSize = logits.shape[logits.shape.length - 1];
      const rows = logits.reshape([-1, vocabSize]);
      const last = rows.slice([rows.shape[0] - 1, 0], [1, vocabSize]); // the prediction after the whole window
      return tf.softmax(last.div(temperature)).dataSync();
    });
    const next = generator.multinomial(probabilities);
    tokens.push(next);
    if (next === stopAt) break;
  }
  return tokens.slice(context.length);
}

/** `count` names: start from a context of '.', generate until the next '.' (or `maxLength` letters). */
export function sampleNames(model: LanguageModel, tokenizer: CharTokenizer, generator: Generator, count: number, maxLength = 50): string[] {
  const boundary = tokenizer.encode(BOUNDARY)[0];
  const start = new Array<number>(model.blockSize).fill(boundary);
  return Array.from({ length: count }, () => {
    const tokens = generate(model, start, maxLength, generator, { stopAt: boundary });
    return tokenizer.decode(tokens.filter((token) => token !== boundary));
  });
}
