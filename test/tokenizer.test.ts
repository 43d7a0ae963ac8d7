// Character tokenizers (lib/tokenizer.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BOUNDARY, CharTokenizer, namesTokenizer } from "../lib/tokenizer";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

test("encode then decode gives the text back", () => {
  const text = "First Citizen:\nBefore we proceed any further, hear me speak.";
  const tokenizer = CharTokenizer.fromText(text);
  const tokens = tokenizer.encode(text);
  assert.equal(tokens.length, text.length);
  assert.ok(tokens.every((t) => Number.isInteger(t) && t >= 0 && t < tokenizer.vocabSize));
  assert.equal(tokenizer.decode(tokens), text);
  assert.equal(tokenizer.decode(new Int32Array(tokens)), text); // any iterable of numbers
  assert.deepEqual(tokenizer.encode(""), []);
  assert.equal(tokenizer.decode([]), "");
});

test("decode then encode gives the tokens back", () => {
  const tokenizer = new CharTokenizer("xyz!");
  const tokens = [3, 0, 0, 2, 1, 3];
  assert.equal(tokenizer.decode(tokens), "!xxzy!");
  assert.deepEqual(tokenizer.encode(tokenizer.decode(tokens)), tokens);
});

test("fromText gives the sorted set of characters, like sorted(list(set(text)))", () => {
  const tokenizer = CharTokenizer.fromText("hello world\n");
  assert.deepEqual(tokenizer.itos, ["\n", " ", "d", "e", "h", "l", "o", "r", "w"]);
  assert.equal(tokenizer.vocabSize, 9);
  tokenizer.itos.forEach((ch, i) => assert.equal(tokenizer.stoi.get(ch), i));
  assert.deepEqual(tokenizer.encode("hello"), [4, 3, 5, 5, 6]);
});

test("an unknown character is a clear error naming it", () => {
  const tokenizer = CharTokenizer.fromText("abc");
  assert.throws(() => tokenizer.encode("abd"), /Character "d" is not in the vocabulary/);
  assert.throws(() => tokenizer.encode("a\tb"), /Character "\\t" is not in the vocabulary/);
});

test("a token outside the vocabulary is a clear error", () => {
  const tokenizer = CharTokenizer.fromText("abc");
  assert.throws(() => tokenizer.decode([0, 3]), /Token 3 is outside the vocabulary \(size 3\)/);
  assert.throws(() => tokenizer.decode([-1]), /Token -1 is outside the vocabulary/);
});

test("characters must be unique", () => {
  assert.throws(() => new CharTokenizer(["a", "b", "a"]), /characters must be unique/);
});

test("namesTokenizer: '.' is 0 and 'a'..'z' are 1..26", () => {
  // Words that together use every letter, in no particular order.
  const words = ["emma", "olivia", "ava", "zoe", "quinn", "jaxon", "brooklyn", "wyatt", "felix", "sage", "huck", "kit", "david", "pip"];
  assert.equal(new Set(words.join("")).size, 26);
  const tokenizer = namesTokenizer(words);
  assert.equal(tokenizer.vocabSize, 27);
  assert.equal(BOUNDARY, ".");
  assert.equal(tokenizer.stoi.get("."), 0);
  assert.equal(tokenizer.itos[0], ".");
  [...ALPHABET].forEach((ch, i) => {
    assert.equal(tokenizer.stoi.get(ch), i + 1, ch);
    assert.equal(tokenizer.itos[i + 1], ch);
  });
  assert.deepEqual(tokenizer.encode(".emma."), [0, 5, 13, 13, 1, 0]);
  assert.equal(tokenizer.decode([0, 26, 15, 5, 0]), ".zoe.");
});

test("namesTokenizer keeps only the letters the words use, still sorted after '.'", () => {
  const tokenizer = namesTokenizer(["bob", "abe"]);
  assert.deepEqual(tokenizer.itos, [".", "a", "b", "e", "o"]);
});

test("namesTokenizer rejects words containing the boundary token", () => {
  assert.throws(() => namesTokenizer(["anna", "j.r."]), /must not contain the boundary token "\."/);
});
