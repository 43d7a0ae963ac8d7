// Lecture 05's text pipeline: GPT-2's byte-pair encoding beside the character tokenizer, and the
// 90/10 split of tiny Shakespeare.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GPT2Tokenizer } from "../lib/bpe";
import { loadText } from "../lib/data";
import { splitText } from "../lib/text-batches";
import { CharTokenizer } from "../lib/tokenizer";

test("GPT2Tokenizer: GPT-2's ids for known text, offline, and round trips", () => {
  const bpe = new GPT2Tokenizer();
  assert.equal(bpe.vocabSize, 50_257);
  assert.deepEqual(bpe.encode("Hello world"), [15496, 995]);
  assert.deepEqual(bpe.encode("hii there"), [71, 4178, 612]); // the lecture's example
  for (const text of ["First Citizen:\nBefore we proceed any further, hear me speak.", "", "  spaces\t\ttabs\n\n", "naïve café, 日本語, emoji 🙂"]) {
    assert.equal(bpe.decode(bpe.encode(text)), text, JSON.stringify(text));
  }
  // A special token's text in the data is just text, never the control token 50256.
  assert.ok(!bpe.encode("<|endoftext|>").includes(50_256));
  assert.deepEqual(bpe.pieces(bpe.encode("Hello world")), ["Hello", " world"]);
  assert.throws(() => bpe.decode([50_257]), /outside GPT-2's vocabulary/);
});

test("tiny Shakespeare: 65 characters; BPE makes 338,025 tokens of it; both round-trip; the 90/10 split", async () => {
  const text = await loadText("tinyshakespeare", { log: () => {} });
  assert.equal(text.length, 1_115_394);
  const chars = CharTokenizer.fromText(text);
  assert.equal(chars.vocabSize, 65);
  assert.equal(chars.itos.join(""), "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  const encoded = Int32Array.from(chars.encode(text));
  assert.equal(chars.decode(encoded), text);
  const { train, val } = splitText(encoded);
  assert.equal(train.length, 1_003_854);
  assert.equal(val.length, 111_540);
  assert.ok(train instanceof Int32Array, "the split keeps the array type");
  const bpe = new GPT2Tokenizer();
  const tokens = bpe.encode(text);
  assert.equal(tokens.length, 338_025);
  assert.equal(bpe.decode(tokens), text);
  assert.throws(() => splitText(encoded, 1), /trainFraction/);
});
