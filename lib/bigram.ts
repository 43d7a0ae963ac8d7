// The bigram language model of lecture 01: count which character follows which, normalise the
// counts into probabilities, sample from them, and score the model by its average negative log
// likelihood.
import * as tf from "@tensorflow/tfjs";
import { BOUNDARY, CharTokenizer } from "./tokenizer";
import { Generator } from "./random";

/** Every (current, next) character pair of every word, with '.' added at the start and the end. */
export function bigrams(words: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (const word of words) {
    const chars = [BOUNDARY, ...word, BOUNDARY];
    for (let i = 0; i + 1 < chars.length; i++) pairs.push([chars[i], chars[i + 1]]);
  }
  return pairs;
}

/** The training pairs as token indices: xs (inputs) and ys (targets), one per bigram. */
export function bigramPairs(words: string[], tokenizer: CharTokenizer): { xs: Int32Array; ys: Int32Array } {
  const pairs = bigrams(words);
  const xs = new Int32Array(pairs.length);
  const ys = new Int32Array(pairs.length);
  pairs.forEach(([a, b], i) => {
    xs[i] = tokenizer.encode(a)[0];
    ys[i] = tokenizer.encode(b)[0];
  });
  return { xs, ys };
}

/** N[i][j] = how often token j follows token i. Plain arrays: counting is a loop, not tensor work. */
export function bigramCounts(words: string[], tokenizer: CharTokenizer): number[][] {
  const size = tokenizer.vocabSize;
  const counts = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const { xs, ys } = bigramPairs(words, tokenizer);
  for (let i = 0; i < xs.length; i++) counts[xs[i]][ys[i]] += 1;
  return counts;
}

/** Each row of the counts (plus `smoothing`, the lecture's "+1") divided by its sum: P[i][j] = p(j | i). */
export function bigramProbabilities(counts: number[][], smoothing = 0): tf.Tensor2D {
  return tf.tidy(() => {
    const smoothed = tf.tensor2d(counts).add(smoothing);
    return smoothed.div(smoothed.sum(1, true)) as tf.Tensor2D;
  });
}

/** Average negative log likelihood of every bigram of `words` under P (Infinity when one has p = 0). */
export function averageNll(P: tf.Tensor2D, words: string[], tokenizer: CharTokenizer): number {
  const { xs, ys } = bigramPairs(words, tokenizer);
  const probabilities = P.arraySync();
  // Summed in float64 on purpose: 228,146 terms in float32 would blur the 4th decimal.
  let logLikelihood = 0;
  for (let i = 0; i < xs.length; i++) logLikelihood += Math.log(probabilities[xs[i]][ys[i]]);
  return -logLikelihood / xs.length;
}

/**
 * Samples `count` words: start at '.', draw the next token from its row of P, stop at '.'.
 * `maxLength` guards against a model that never ends a word.
 */
export function sampleWords(
  P: tf.Tensor2D | number[][],
  tokenizer: CharTokenizer,
  generator: Generator,
  count: number,
  maxLength = 50,
): string[] {
  const rows = Array.isArray(P) ? P : P.arraySync();
  const end = tokenizer.stoi.get(BOUNDARY)!;
  const words: string[] = [];
  for (let n = 0; n < count; n++) {
    const out: number[] = [];
    let ix = end;
    while (out.length < maxLength) {
      ix = generator.multinomial(rows[ix]);
      if (ix === end) break;
      out.push(ix);
    }
    words.push(tokenizer.decode(out));
  }
  return words;
}
