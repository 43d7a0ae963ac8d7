// generate (lib/generate.ts) refuses input it cannot mean: context tokens and maxNewTokens must be
// whole numbers, never silently truncated to other tokens or turned into an empty result.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { generate } from "../lib/generate";
import type { LanguageModel } from "../lib/model";
import { Generator } from "../lib/random";

tf.enableProdMode();

// A model that always predicts (last token + 1) % 4, so a valid call's answer is known by hand.
const vocabSize = 4;
const model: LanguageModel = {
  blockSize: 3,
  forward: (idx) => tf.tidy(() => ({ logits: tf.oneHot(idx.toInt().add(tf.scalar(1, "int32")).mod(tf.scalar(vocabSize, "int32")), vocabSize).toFloat().mul(100) })),
  parameters: () => [],
};

test("generate takes whole-number context tokens and maxNewTokens", async () => {
  await tf.setBackend("cpu");
  assert.deepEqual(generate(model, [2], 3, new Generator(1)), [3, 0, 1]);
  assert.deepEqual(generate(model, [2], 0, new Generator(1)), [], "maxNewTokens 0 is a valid request for nothing");
});

test("generate refuses context tokens that are not whole numbers >= 0, naming the first one", async () => {
  await tf.setBackend("cpu");
  for (const bad of [1.5, NaN, Infinity, -1]) {
    assert.throws(() => generate(model, [0, bad, 1], 3, new Generator(1)), (error: Error) => {
      assert.match(error.message, /^generate: context\[1\] is .*; token indices are whole numbers >= 0/);
      assert.ok(error.message.includes(String(bad)), error.message);
      return true;
    });
  }
});

test("generate refuses a maxNewTokens that is not a whole number >= 0", async () => {
  await tf.setBackend("cpu");
  for (const bad of [2.5, NaN, Infinity, -3]) {
    assert.throws(() => generate(model, [0], bad, new Generator(1)), new RegExp(`^Error: generate: maxNewTokens must be a whole number >= 0 \\(got ${bad}\\)`));
  }
});
