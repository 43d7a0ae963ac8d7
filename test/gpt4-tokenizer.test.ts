// GPT4Tokenizer (lib/gpt4-tokenizer.ts): cl100k_base rebuilt from merges gives js-tiktoken's tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { GPT4Tokenizer, GPT4_SPECIAL_TOKENS, recoverCl100k, tiktokenCl100k } from "../lib/gpt4-tokenizer";
import { TOKENIZER_SAMPLES } from "../lib/tokenizer-samples";
import { GPT4_SPLIT_PATTERN } from "../lib/bpe-regex";
import { pairKey } from "../lib/bpe-helpers";

const cl100k = tiktokenCl100k();
const gpt4 = new GPT4Tokenizer();

test("GPT4Tokenizer gives cl100k_base's tokens on every sample text, and decodes them back", () => {
  for (const [name, text] of Object.entries(TOKENIZER_SAMPLES)) {
    const ids = gpt4.encode(text, { allowedSpecial: "all" });
    assert.deepEqual(ids, cl100k.encode(text, "all"), name);
    assert.equal(gpt4.decode(ids), text, name);
    assert.equal(cl100k.decode(ids), text, name);
  }
});

test("GPT4Tokenizer equals cl100k_base on random mixtures of the samples' characters", () => {
  const characters = [...Object.values(TOKENIZER_SAMPLES).join("")];
  let state = 1;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 200; i++) {
    const length = Math.floor(random() * 60);
    const text = Array.from({ length }, () => characters[Math.floor(random() * characters.length)]).join("");
    assert.deepEqual(gpt4.encode(text, { disallowedSpecial: [] }), cl100k.encode(text, [], []), JSON.stringify(text));
  }
});

test("GPT4Tokenizer equals cl100k_base on tiny Shakespeare (when the data mirror is set)", { skip: !process.env.ZTH_DATA_MIRROR && "ZTH_DATA_MIRROR is not set" }, () => {
  const file = path.resolve(process.env.ZTH_DATA_MIRROR!, "tinyshakespeare.txt");
  const text = fs.readFileSync(file, "utf8").slice(0, 200_000);
  assert.deepEqual(gpt4.encode(text), cl100k.encode(text));
});

test("the recovered merges: 100,000 of them, the byte permutation a permutation, special tokens as cl100k's", () => {
  const { merges, byteShuffle, inverseShuffle } = recoverCl100k();
  assert.equal(merges.length, 100_256 - 256);
  assert.equal(new Set(byteShuffle).size, 256);
  for (let b = 0; b < 256; b++) assert.equal(inverseShuffle[byteShuffle[b]], b);
  // " the" is a token; its two parts joined give its bytes.
  const [theId] = cl100k.encode(" the");
  const [left, right] = merges[theId - 256];
  assert.equal(gpt4.decode([left]) + gpt4.decode([right]), " the");
  assert.equal((gpt4 as unknown as { ranks: Map<number, number> }).ranks.get(pairKey(left, right)), theId);
  assert.deepEqual(Object.fromEntries(gpt4.specialTokens), GPT4_SPECIAL_TOKENS);
  assert.equal(gpt4.pattern, GPT4_SPLIT_PATTERN);
});

test("special tokens are refused unless allowed, as in tiktoken", () => {
  const text = "a<|endoftext|>b";
  assert.throws(() => cl100k.encode(text), /not allowed/);
  assert.throws(() => gpt4.encode(text), /not allowed/);
  assert.deepEqual(gpt4.encode(text, { allowedSpecial: "all" }), cl100k.encode(text, "all"));
  assert.deepEqual(gpt4.encode(text, { disallowedSpecial: [] }), cl100k.encode(text, [], []));
  assert.deepEqual(gpt4.encode(text, { allowedSpecial: ["<|endoftext|>"] }), [64, 100257, 65]);
});

test("GPT4Tokenizer is neither trained nor saved nor loaded, with errors that say what to do", () => {
  assert.throws(() => gpt4.train("abc", 300), /train a new RegexTokenizer\(GPT4_SPLIT_PATTERN\)/);
  assert.throws(() => gpt4.save("x"), /not saved/);
  assert.throws(() => gpt4.load("x.model"), /always cl100k_base/);
});
