// The seeded generator (lib/random.ts): reproducible, and distributed as its methods say.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../lib/random";

tf.enableProdMode();

const DRAWS = 100_000;

function mean(xs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i];
  return sum / xs.length;
}

function std(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += (xs[i] - m) ** 2;
  return Math.sqrt(sum / xs.length);
}

/** Every kind of draw, interleaved, so a shared state bug between methods would show. */
function drawEverything(g: Generator): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < 5; i++) {
    out.push(g.random(), g.normal(), g.integer(10), g.multinomial([0.1, 0.5, 0.4]));
  }
  out.push(g.normal()); // an odd number of normals: the kept second Box-Muller value matters
  out.push(Array.from(g.randn([3, 4]).dataSync()));
  out.push(Array.from(g.uniform([5], -2, 3).dataSync()));
  out.push(g.shuffle([...Array(10).keys()]));
  return out;
}

test("the same seed gives the same sequence for every kind of draw", () => {
  assert.deepEqual(drawEverything(new Generator(42)), drawEverything(new Generator(42)));
  assert.deepEqual(drawEverything(new Generator()), drawEverything(new Generator(2147483647)));
});

test("different seeds give different sequences", () => {
  const a = drawEverything(new Generator(1));
  const b = drawEverything(new Generator(2));
  assert.notDeepEqual(a, b);
  const firstTen = (seed: number) => {
    const g = new Generator(seed);
    return Array.from({ length: 10 }, () => g.random());
  };
  const one = firstTen(1);
  const two = firstTen(2);
  assert.ok(one.every((x, i) => x !== two[i]), "seeds 1 and 2 share a value among their first ten");
});

test("a generator's sequence does not repeat itself early", () => {
  const g = new Generator(7);
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) seen.add(g.random());
  assert.ok(seen.size > 9_990, `only ${seen.size} distinct values in 10,000 draws`);
});

test("random() is uniform in [0, 1)", () => {
  const g = new Generator(123);
  const xs = Array.from({ length: DRAWS }, () => g.random());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(mean(xs) - 0.5) < 0.01, `mean ${mean(xs)}`);
  assert.ok(Math.abs(std(xs) - Math.sqrt(1 / 12)) < 0.01, `std ${std(xs)}`);
  // Ten equal bins, each expecting 10%.
  const bins = new Array(10).fill(0);
  for (const x of xs) bins[Math.floor(x * 10)]++;
  for (const count of bins) assert.ok(Math.abs(count / DRAWS - 0.1) < 0.01, `bins ${bins}`);
});

test("normal() has mean 0 and standard deviation 1 (and ~68% within one sigma)", () => {
  const g = new Generator(2024);
  const xs = Array.from({ length: DRAWS }, () => g.normal());
  assert.ok(xs.every(Number.isFinite));
  assert.ok(Math.abs(mean(xs)) < 0.02, `mean ${mean(xs)}`);
  assert.ok(Math.abs(std(xs) - 1) < 0.02, `std ${std(xs)}`);
  const within = xs.filter((x) => Math.abs(x) < 1).length / DRAWS;
  assert.ok(Math.abs(within - 0.6827) < 0.01, `within one sigma: ${within}`);
});

test("randn(shape) is a float32 tensor of the generator's normal() values", () => {
  const t = new Generator(5).randn([2, 3]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, "float32");
  const g = new Generator(5);
  assert.deepEqual(Array.from(t.dataSync()), Array.from(Float32Array.from({ length: 6 }, () => g.normal())));
  t.dispose();
  const big = new Generator(9).randn([100, 1000]);
  const values = big.dataSync();
  assert.ok(Math.abs(mean(values)) < 0.02 && Math.abs(std(values) - 1) < 0.02);
  big.dispose();
});

test("uniform(shape, low, high) stays in [low, high)", () => {
  const t = new Generator(6).uniform([1000], -3, 2);
  const values = t.dataSync();
  assert.ok(values.every((v) => v >= -3 && v < 2));
  assert.ok(Math.abs(mean(values) - -0.5) < 0.2);
  t.dispose();
});

test("integer(high) gives every integer in [0, high) and nothing else", () => {
  const g = new Generator(8);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 6000; i++) {
    const n = g.integer(6);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 6, `got ${n}`);
    counts[n]++;
  }
  assert.ok(counts.every((c) => c > 800), `counts ${counts}`);
});

test("multinomial draws each index in proportion to its weight; a zero weight is never drawn", () => {
  const weights = [1, 2, 3, 0, 4]; // need not sum to 1
  const g = new Generator(31337);
  const counts = new Array(weights.length).fill(0);
  for (let i = 0; i < DRAWS; i++) counts[g.multinomial(weights)]++;
  assert.equal(counts[3], 0);
  // Pearson's chi-square over the 4 possible outcomes (3 degrees of freedom): 16.27 is the 0.1% point.
  const total = weights.reduce((a, b) => a + b, 0);
  let chiSquare = 0;
  weights.forEach((w, i) => {
    if (w === 0) return;
    const expected = (DRAWS * w) / total;
    chiSquare += (counts[i] - expected) ** 2 / expected;
  });
  assert.ok(chiSquare < 16.27, `chi-square ${chiSquare.toFixed(2)} for counts ${counts}`);
});

test("multinomial takes typed arrays and a single non-zero weight always wins", () => {
  const g = new Generator(3);
  for (let i = 0; i < 1000; i++) assert.equal(g.multinomial(new Float32Array([0, 0, 0.25, 0])), 2);
  for (let i = 0; i < 1000; i++) assert.equal(g.multinomial([0, 0, 0, 1]), 3);
  for (let i = 0; i < 1000; i++) assert.equal(g.multinomial([1, 0, 0, 0]), 0);
});

test("multinomial rejects weights that are not a distribution, with a clear error", () => {
  const g = new Generator(1);
  const bad: [string, number[]][] = [
    ["all zero", [0, 0, 0]],
    ["empty", []],
    ["NaN", [0.5, NaN, 0.5]],
    ["infinite", [1, Infinity]],
    ["negative", [2, -1]],
    ["negative, with a positive sum", [-1, 2, 3]],
  ];
  for (const [what, weights] of bad) {
    assert.throws(() => g.multinomial(weights), /multinomial needs non-negative weights with a finite, positive sum/, what);
  }
});

test("shuffle permutes the array in place, reproducibly", () => {
  const items = [...Array(20).keys()];
  const shuffled = new Generator(11).shuffle(items);
  assert.equal(shuffled, items); // in place
  assert.deepEqual([...shuffled].sort((a, b) => a - b), [...Array(20).keys()]);
  assert.notDeepEqual(shuffled, [...Array(20).keys()]);
  assert.deepEqual(new Generator(11).shuffle([...Array(20).keys()]), shuffled);
  assert.notDeepEqual(new Generator(12).shuffle([...Array(20).keys()]), shuffled);
  assert.deepEqual(new Generator(11).shuffle([]), []);
});

test("shuffle puts each item in each place about equally often", () => {
  const g = new Generator(99);
  const firstPlace = new Array(4).fill(0);
  for (let i = 0; i < 40_000; i++) firstPlace[g.shuffle([0, 1, 2, 3])[0]]++;
  for (const c of firstPlace) assert.ok(Math.abs(c / 40_000 - 0.25) < 0.01, `first place ${firstPlace}`);
});

test("a non-finite seed is a clear error", () => {
  for (const seed of [NaN, Infinity, -Infinity]) {
    assert.throws(() => new Generator(seed), /Generator seed must be a finite number/);
  }
});
