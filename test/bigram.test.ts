// The counting bigram model (lib/bigram.ts): by hand on tiny word lists, and pinned on the real names.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { averageNll, bigramCounts, bigramProbabilities, bigrams, CountBigramModel } from "../lib/bigram";
import { buildDataset } from "../lib/dataset";
import { evaluate } from "../lib/evaluate";
import { sampleNames } from "../lib/generate";
import { courseNames } from "./course-data";
import { Generator } from "../lib/random";
import { CharTokenizer, namesTokenizer } from "../lib/tokenizer";

tf.enableProdMode();

function assertClose(actual: number, expected: number, tolerance: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: got ${actual}, expected ${expected} (tolerance ${tolerance})`);
}

// A tiny data set, small enough to count by hand. Vocabulary: '.' = 0, 'a' = 1, 'b' = 2.
//   "ab": .a ab b.      "ba": .b ba a.      "a": .a a.        (8 bigrams)
const TINY = ["ab", "ba", "a"];
const tiny = namesTokenizer(TINY);
//                       next:  .  a  b
const TINY_COUNTS = [/* . */ [0, 2, 1], /* a */ [2, 0, 1], /* b */ [1, 1, 0]];

/** Names sampled from the count model with probabilities P (a tensor or rows of numbers). */
function sampleFrom(P: tf.Tensor2D | number[][], tokenizer: CharTokenizer, generator: Generator, count: number, maxLength?: number): string[] {
  const model = new CountBigramModel(Array.isArray(P) ? tf.tensor2d(P) : P);
  try {
    return sampleNames(model, tokenizer, generator, count, maxLength);
  } finally {
    model.dispose();
  }
}

let names: string[];

before(async () => {
  await tf.setBackend("cpu");
  names = await courseNames();
});

test('bigrams(["emma"]) is .e em mm ma a.', () => {
  assert.deepEqual(bigrams(["emma"]), [[".", "e"], ["e", "m"], ["m", "m"], ["m", "a"], ["a", "."]]);
  assert.deepEqual(bigrams([]), []);
  assert.deepEqual(bigrams([""]), [[".", "."]]);
  assert.equal(bigrams(TINY).length, 8);
});

test("the bigrams as token indices are buildDataset with blockSize 1", () => {
  const { X, Y } = buildDataset(["emma"], namesTokenizer(["emma"]), 1); // '.' 0, a 1, e 2, m 3
  assert.deepEqual(Array.from(X), [0, 2, 3, 3, 1]);
  assert.deepEqual(Array.from(Y), [2, 3, 3, 1, 0]);
});

test("bigramCounts on a tiny word list equals the counts by hand", () => {
  assert.deepEqual(tiny.itos, [".", "a", "b"]);
  assert.deepEqual(bigramCounts(TINY, tiny), TINY_COUNTS);
});

test("bigramProbabilities: each row sums to 1, with and without smoothing", () => {
  for (const smoothing of [0, 1, 0.5]) {
    const P = bigramProbabilities(TINY_COUNTS, smoothing);
    assert.deepEqual(P.shape, [3, 3]);
    for (const row of P.arraySync()) assertClose(row.reduce((a, b) => a + b, 0), 1, 1e-6, `row sum (smoothing ${smoothing})`);
    P.dispose();
  }
});

test("bigramProbabilities divides each row by its sum (after adding the smoothing)", () => {
  const P = bigramProbabilities(TINY_COUNTS).arraySync();
  const expected = [[0, 2 / 3, 1 / 3], [2 / 3, 0, 1 / 3], [1 / 2, 1 / 2, 0]];
  P.forEach((row, i) => row.forEach((p, j) => assertClose(p, expected[i][j], 1e-7, `P[${i}][${j}]`)));
  const S = bigramProbabilities(TINY_COUNTS, 1).arraySync(); // counts + 1: rows [1 3 2]/6, [3 1 2]/6, [2 2 1]/5
  const smoothed = [[1 / 6, 3 / 6, 2 / 6], [3 / 6, 1 / 6, 2 / 6], [2 / 5, 2 / 5, 1 / 5]];
  S.forEach((row, i) => row.forEach((p, j) => assertClose(p, smoothed[i][j], 1e-7, `smoothed P[${i}][${j}]`)));
});

test("bigramProbabilities leaves only its result behind", () => {
  const before = tf.memory().numTensors;
  const P = bigramProbabilities(TINY_COUNTS, 1);
  assert.equal(tf.memory().numTensors, before + 1);
  P.dispose();
});

test("averageNll on a tiny word list equals the value by hand", () => {
  // Unsmoothed, the 8 bigrams' probabilities are
  //   .a 2/3, ab 1/3, b. 1/2,   .b 1/3, ba 1/2, a. 2/3,   .a 2/3, a. 2/3
  // so NLL = -(4 log(2/3) + 2 log(1/3) + 2 log(1/2)) / 8.
  const byHand = -(4 * Math.log(2 / 3) + 2 * Math.log(1 / 3) + 2 * Math.log(1 / 2)) / 8;
  assertClose(byHand, 0.6506724, 1e-6, "the arithmetic itself"); // (4 ln 1.5 + 2 ln 3 + 2 ln 2) / 8 = 5.20538 / 8
  const P = bigramProbabilities(bigramCounts(TINY, tiny));
  assertClose(averageNll(P, TINY, tiny), byHand, 1e-6, "unsmoothed");
  // With +1: .a 3/6, ab 2/6, b. 2/5,   .b 2/6, ba 2/5, a. 3/6,   .a 3/6, a. 3/6.
  const smoothedByHand = -(4 * Math.log(1 / 2) + 2 * Math.log(1 / 3) + 2 * Math.log(2 / 5)) / 8;
  const S = bigramProbabilities(bigramCounts(TINY, tiny), 1);
  assertClose(averageNll(S, TINY, tiny), smoothedByHand, 1e-6, "smoothed");
  // Scoring a single word: "ab" alone has .a 2/3, ab 1/3, b. 1/2.
  assertClose(averageNll(P, ["ab"], tiny), -(Math.log(2 / 3) + Math.log(1 / 3) + Math.log(1 / 2)) / 3, 1e-6, '"ab"');
  tf.dispose([P, S]);
});

test("averageNll is Infinity for an unseen bigram without smoothing, finite with it", () => {
  // "bb" contains b -> b, which the tiny data set never shows.
  const P = bigramProbabilities(bigramCounts(TINY, tiny));
  assert.equal(averageNll(P, ["bb"], tiny), Infinity);
  assert.equal(averageNll(P, ["ab", "bb"], tiny), Infinity);
  const S = bigramProbabilities(bigramCounts(TINY, tiny), 1);
  const nll = averageNll(S, ["bb"], tiny);
  // .b 2/6, bb 1/5, b. 2/5
  assertClose(nll, -(Math.log(2 / 6) + Math.log(1 / 5) + Math.log(2 / 5)) / 3, 1e-6, "smoothed");
  tf.dispose([P, S]);
});

test("on the real names: 32,033 words, 228,146 bigrams, the lecture's counts", () => {
  assert.equal(names.length, 32_033);
  assert.equal(bigrams(names).length, 228_146);
  const tokenizer = namesTokenizer(names);
  assert.equal(tokenizer.vocabSize, 27);
  const N = bigramCounts(names, tokenizer);
  const total = N.flat().reduce((a, b) => a + b, 0);
  assert.equal(total, 228_146);
  // Every word starts once and ends once; '.' never follows '.'.
  assert.equal(N[0].reduce((a, b) => a + b, 0), 32_033);
  assert.equal(N.reduce((sum, row) => sum + row[0], 0), 32_033);
  assert.equal(N[0][0], 0);
  const count = (pair: string) => N[tokenizer.stoi.get(pair[0])!][tokenizer.stoi.get(pair[1])!];
  assert.equal(count(".a"), 4410);
  assert.equal(count("n."), 6763); // the most common bigram
  assert.equal(count("an"), 5438);
  assert.equal(Math.max(...N.flat()), 6763);
});

test("on the real names the average NLL is pinned: 2.454014 unsmoothed, 2.454577 with +1", () => {
  const tokenizer = namesTokenizer(names);
  const N = bigramCounts(names, tokenizer);
  const P = bigramProbabilities(N);
  const S = bigramProbabilities(N, 1);
  const nll = averageNll(P, names, tokenizer);
  const smoothed = averageNll(S, names, tokenizer);
  // Both measured against a float64 computation of the same sums: 2.4540144892, 2.4545768201.
  assert.ok(Math.abs(nll - 2.454014) < 1e-5, `unsmoothed NLL ${nll}`);
  assert.ok(Math.abs(smoothed - 2.454577) < 1e-5, `smoothed NLL ${smoothed}`);
  assert.equal(nll.toFixed(4), "2.4540");
  assert.equal(smoothed.toFixed(4), "2.4546");
  assert.ok(smoothed > nll, "smoothing moves probability away from the seen bigrams");
  tf.dispose([P, S]);
});

test("sampleNames is deterministic under a seed and uses only letters", () => {
  const tokenizer = namesTokenizer(names);
  const P = bigramProbabilities(bigramCounts(names, tokenizer), 1);
  const first = sampleFrom(P, tokenizer, new Generator(2147483647), 50);
  const again = sampleFrom(P, tokenizer, new Generator(2147483647), 50);
  assert.equal(first.length, 50);
  assert.deepEqual(again, first);
  assert.deepEqual(sampleFrom(P.arraySync(), tokenizer, new Generator(2147483647), 50), first); // rows as arrays
  assert.notDeepEqual(sampleFrom(P, tokenizer, new Generator(1), 50), first);
  for (const word of first) assert.match(word, /^[a-z]{0,50}$/);
  assert.ok(first.some((w) => w.length > 1), "a trained model makes real words, not only empty ones");
  P.dispose();
});

test("sampleNames: a model whose row 0 puts all mass on '.' makes empty words", () => {
  const P = [[1, 0, 0], [0.5, 0.25, 0.25], [0.5, 0.25, 0.25]];
  assert.deepEqual(sampleFrom(P, tiny, new Generator(3), 5), ["", "", "", "", ""]);
});

test("sampleNames: a model that never ends a word stops at maxLength", () => {
  const P = [[0, 1, 0], [0, 1, 0], [0, 0, 1]]; // '.' -> a, a -> a forever
  assert.deepEqual(sampleFrom(P, tiny, new Generator(3), 2, 7), ["aaaaaaa", "aaaaaaa"]);
});

test("sampleNames follows the model: a deterministic chain gives its one word", () => {
  const P = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]; // . -> b -> a -> .
  assert.deepEqual(sampleFrom(P, tiny, new Generator(3), 3), ["ba", "ba", "ba"]);
});

test("a tokenizer whose boundary is not index 0 still samples correctly", () => {
  const tokenizer = new CharTokenizer(["a", "."]); // '.' is 1 here
  const P = [[0, 1], [1, 0]]; // . -> a -> .
  assert.deepEqual(sampleFrom(P, tokenizer, new Generator(3), 2), ["a", "a"]);
});

test("the count model as a LanguageModel: logits log P, evaluate equals averageNll", () => {
  const P = bigramProbabilities(TINY_COUNTS, 1);
  const model = new CountBigramModel(P);
  const logits = model.forward(tf.tensor2d([[0, 1]], [1, 2], "int32")).logits; // [B 1, T 2, V 3]
  assert.deepEqual(logits.shape, [1, 2, 3]);
  const softmaxRows = tf.softmax(logits).arraySync() as number[][][];
  const rows = P.arraySync();
  for (let t = 0; t < 2; t++) for (let j = 0; j < 3; j++) assertClose(softmaxRows[0][t][j], rows[t][j], 1e-6, `softmax(log P)[${t}][${j}]`);
  assertClose(evaluate(model, buildDataset(TINY, tiny, 1)), averageNll(P, TINY, tiny), 1e-5, "NLL");
  assert.deepEqual(model.parameters(), []);
  tf.dispose([logits, P]);
  model.dispose();
});
