// Training examples for a model that reads a fixed-size context: every position of every word gives
// one (context, next token) pair, the context padded with '.' at the start of a word. For "emma"
// with blockSize 3:  ... -> e,  ..e -> m,  .em -> m,  emm -> a,  mma -> .
import * as tf from "@tensorflow/tfjs";
import { Generator } from "./random";
import { BOUNDARY, CharTokenizer } from "./tokenizer";

export interface Dataset {
  /** The contexts, N rows of `blockSize` token indices one after another: [N, blockSize] row-major. */
  X: Int32Array;
  /** The token that follows each context: [N]. */
  Y: Int32Array;
  blockSize: number;
}

/** The (context, next token) pairs of all `words`, as the lecture's `build_dataset`. */
export function buildDataset(words: string[], tokenizer: CharTokenizer, blockSize: number): Dataset {
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new Error(`buildDataset: blockSize must be an integer >= 1 (got ${blockSize}).`);
  }
  const boundary = tokenizer.encode(BOUNDARY)[0];
  const count = words.reduce((n, word) => n + [...word].length + 1, 0); // +1: the closing '.'
  const X = new Int32Array(count * blockSize);
  const Y = new Int32Array(count);
  let row = 0;
  for (const word of words) {
    const context = new Array<number>(blockSize).fill(boundary);
    for (const token of [...tokenizer.encode(word), boundary]) {
      X.set(context, row * blockSize);
      Y[row++] = token;
      context.shift(); // crop and append: slide the window one token to the right
      context.push(token);
    }
  }
  return { X, Y, blockSize };
}

/** Rows [start, end) of a data set as tensors: X [n, blockSize] and Y [n], both int32. */
export function datasetTensors(data: Dataset, start = 0, end = data.Y.length): { X: tf.Tensor2D; Y: tf.Tensor1D } {
  const n = end - start;
  return {
    X: tf.tensor2d(data.X.slice(start * data.blockSize, end * data.blockSize), [n, data.blockSize], "int32"),
    Y: tf.tensor1d(data.Y.slice(start, end), "int32"),
  };
}

/** `batchSize` random rows of `data`, drawn with replacement (as torch.randint): X [B, blockSize], Y [B]. */
export function sampleBatch(data: Dataset, batchSize: number, generator: Generator): { X: tf.Tensor2D; Y: tf.Tensor1D } {
  const T = data.blockSize;
  const X = new Int32Array(batchSize * T);
  const Y = new Int32Array(batchSize);
  for (let b = 0; b < batchSize; b++) {
    const row = generator.integer(data.Y.length);
    for (let t = 0; t < T; t++) X[b * T + t] = data.X[row * T + t];
    Y[b] = data.Y[row];
  }
  return { X: tf.tensor2d(X, [batchSize, T], "int32"), Y: tf.tensor1d(Y, "int32") };
}

/** Anything that shuffles an array in place: our Generator, or PythonRandom for the lectures' split. */
export interface Shuffler {
  shuffle<T>(items: T[]): T[];
}

/**
 * Shuffles a copy of `words` and cuts it into train/dev/test parts (80%, 10%, 10% by default): train
 * fits the parameters, dev tunes the hyperparameters, test is looked at rarely, to report how the model
 * does on names it has never seen. `splitWords(words, new PythonRandom(42))` is the lectures' split
 * (`random.seed(42); random.shuffle(words)`), name for name.
 */
export function splitWords(
  words: string[],
  shuffler: Shuffler,
  fractions: [number, number, number] = [0.8, 0.1, 0.1],
): { train: string[]; dev: string[]; test: string[] } {
  const total = fractions.reduce((a, b) => a + b, 0);
  if (fractions.length !== 3 || fractions.some((f) => !(f >= 0)) || Math.abs(total - 1) > 1e-9) {
    throw new Error(`splitWords: fractions must be three numbers >= 0 that add up to 1 (got [${fractions.join(", ")}]).`);
  }
  const shuffled = shuffler.shuffle([...words]);
  const n1 = Math.floor(fractions[0] * shuffled.length);
  const n2 = Math.floor((fractions[0] + fractions[1]) * shuffled.length);
  return { train: shuffled.slice(0, n1), dev: shuffled.slice(n1, n2), test: shuffled.slice(n2) };
}
