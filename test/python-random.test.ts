// PythonRandom (lib/python-random.ts) against values printed by CPython 3.11's random module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PythonRandom } from "../lib/python-random";
import { splitWords } from "../lib/dataset";
import { courseNames } from "./course-data";

test("PythonRandom draws what CPython's random draws for the same seed", () => {
  // random.seed(42); [random.getrandbits(32) for _ in range(3)]
  const r = new PythonRandom(42);
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32()], [2746317213, 478163327, 107420369]);
  // random.seed(2**40 + 5): a seed of two 32-bit words
  const big = new PythonRandom(2 ** 40 + 5);
  assert.deepEqual([big.uint32(), big.uint32()], [2166296868, 2220160828]);
  // random.seed(2147483647); two getrandbits(32), then five randrange(1000)
  const lecture = new PythonRandom(2147483647);
  assert.deepEqual([lecture.uint32(), lecture.uint32()], [1364760256, 4023463762]);
  assert.deepEqual(Array.from({ length: 5 }, () => lecture.below(1000)), [836, 123, 201, 297, 905]);
  // random.seed(0); [random.getrandbits(7) for _ in range(4)]
  const zero = new PythonRandom(0);
  assert.deepEqual(Array.from({ length: 4 }, () => zero.bits(7)), [108, 49, 97, 113]);
  // a negative seed is its absolute value
  assert.equal(new PythonRandom(-42).uint32(), 2746317213);
  // random.seed(42); x = list(range(10)); random.shuffle(x)
  assert.deepEqual(new PythonRandom(42).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), [7, 3, 2, 8, 5, 6, 9, 4, 0, 1]);
  assert.throws(() => new PythonRandom(1.5), /whole number seed/);
});

test("splitWords with PythonRandom(42) is the lectures' split of names.txt", async () => {
  const words = await courseNames();
  const split = splitWords(words, new PythonRandom(42));
  // words[:n1], words[n1:n2], words[n2:] with n1 = int(0.8 * 32033), n2 = int(0.9 * 32033)
  assert.deepEqual([split.train.length, split.dev.length, split.test.length], [25626, 3203, 3204]);
  assert.deepEqual(split.train.slice(0, 3), ["yuheng", "diondre", "xavien"]);
  assert.deepEqual([split.train.at(-1), split.dev[0], split.dev.at(-1), split.test[0]], ["holdan", "amay", "hayla", "mustafa"]);
  assert.deepEqual(split.test.slice(-2), ["zaylynn", "yovani"]);
});
