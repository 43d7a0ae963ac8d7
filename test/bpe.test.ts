// Byte-pair encoding (lib/bpe-*.ts): minbpe's own cases, the fast training and encoding against
// minbpe's plain loops, special tokens, decoding invalid UTF-8, save and load.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { getStats, merge, utf8Bytes, utf8Text, pairKey, type Pair } from "../lib/bpe-helpers";
import { trainMerges } from "../lib/bpe-train";
import { applyMerges } from "../lib/bpe-encode";
import { BasicTokenizer } from "../lib/bpe-basic";
import { GPT2_SPLIT_PATTERN, RegexTokenizer } from "../lib/bpe-regex";
import { Generator } from "../lib/random";

/** minbpe's training loop as written in the lecture: count all pairs, take the max (first seen wins ties), merge. */
function minbpeTrain(chunks: number[][], numMerges: number): Pair[] {
  const merges: Pair[] = [];
  let ids = chunks;
  for (let i = 0; i < numMerges; i++) {
    const stats = new Map<string, number>();
    for (const chunk of ids) getStats(chunk, stats);
    let best = "";
    let bestCount = 0;
    for (const [pair, count] of stats) if (count > bestCount) [best, bestCount] = [pair, count]; // Python's max over a dict
    if (bestCount === 0) break; // no pairs left
    const pair = best.split(",").map(Number) as unknown as Pair;
    ids = ids.map((chunk) => merge(chunk, pair, 256 + i));
    merges.push(pair);
  }
  return merges;
}

/** minbpe's encode: merge the present pair with the lowest id, repeat. */
function minbpeEncode(bytes: number[], merges: Pair[]): number[] {
  let ids = bytes;
  for (;;) {
    const stats = getStats(ids);
    let best: Pair | undefined;
    let bestId = Infinity;
    for (const key of stats.keys()) {
      const pair = key.split(",").map(Number) as unknown as Pair;
      const id = merges.findIndex(([a, b]) => a === pair[0] && b === pair[1]);
      if (id !== -1 && 256 + id < bestId) [best, bestId] = [pair, 256 + id];
    }
    if (!best) return ids;
    ids = merge(ids, best, bestId);
  }
}

/** Texts from a small alphabet: many ties, runs like "aaaa" (overlapping pairs), several chunks. */
function randomChunks(generator: Generator, alphabet: string, chunks: number, maxLength: number): number[][] {
  return Array.from({ length: chunks }, () => {
    const length = 1 + Math.floor(generator.random() * maxLength);
    return Array.from({ length }, () => alphabet.charCodeAt(Math.floor(generator.random() * alphabet.length)));
  });
}

test("the Wikipedia example: aaabdaaabac with 3 merges is [258, 100, 258, 97, 99] (minbpe's test)", () => {
  for (const tokenizer of [new BasicTokenizer(), new RegexTokenizer()]) {
    tokenizer.train("aaabdaaabac", 256 + 3);
    assert.deepEqual(tokenizer.encode("aaabdaaabac"), [258, 100, 258, 97, 99]);
    assert.equal(tokenizer.decode(tokenizer.encode("aaabdaaabac")), "aaabdaaabac");
    // aa is the most frequent (4); then "Za" and "ab" both occur twice, and "Za" comes first.
    assert.deepEqual(tokenizer.merges, [[97, 97], [256, 97], [257, 98]]);
  }
});

test("getStats counts consecutive pairs in first-seen order; merge replaces left to right", () => {
  assert.deepEqual([...getStats([1, 2, 3, 1, 2])], [["1,2", 2], ["2,3", 1], ["3,1", 1]]);
  assert.deepEqual(merge([1, 2, 3, 1, 2], [1, 2], 4), [4, 3, 4]);
  assert.deepEqual(merge([7, 7, 7], [7, 7], 9), [9, 7]);
});

test("ties go to the pair seen first in the text", () => {
  const tokenizer = new BasicTokenizer();
  tokenizer.train("cdcdabab", 257); // cd and ab both occur twice; cd comes first
  assert.deepEqual(tokenizer.merges, [[99, 100]]);
  tokenizer.train("ababcdcd", 257);
  assert.deepEqual(tokenizer.merges, [[97, 98]]);
});

test("fast training gives exactly minbpe's merges (random texts full of ties and runs)", () => {
  const generator = new Generator(20);
  for (const [alphabet, chunks, maxLength] of [["ab", 1, 300], ["abc", 40, 12], ["aab ", 1, 500], ["abcdefgh", 200, 8], ["a", 3, 50]] as const) {
    const data = randomChunks(generator, alphabet, chunks, maxLength);
    const expected = minbpeTrain(data, 60); // fewer when the text runs out of pairs
    assert.ok(expected.length >= 8, `alphabet ${alphabet}: only ${expected.length} merges to compare`);
    assert.deepEqual(trainMerges(data, expected.length), expected, `alphabet ${alphabet}, ${chunks} chunks`);
  }
});

test("training on English gives minbpe's merges, and runs out of pairs with a clear error", () => {
  const text = "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs, and the fox runs again.\n".repeat(3);
  assert.deepEqual(trainMerges([[...utf8Bytes(text)]], 60), minbpeTrain([[...utf8Bytes(text)]], 60));
  const chunks = new RegexTokenizer().split(text).map((chunk) => [...utf8Bytes(chunk)]);
  assert.deepEqual(trainMerges(chunks, 40), minbpeTrain(chunks, 40));
  assert.throws(() => new BasicTokenizer().train("abc", 300), /no pairs left to merge after 2 merges/);
  assert.throws(() => new BasicTokenizer().train("abc", 255), /at least 256/);
});

test("encoding applies merges as minbpe's encode does, for short and long inputs", () => {
  const generator = new Generator(8);
  const [training] = randomChunks(generator, "abcab ", 1, 2000);
  const merges = trainMerges([training], 50);
  const ranks = new Map(merges.map(([a, b], i) => [pairKey(a, b), 256 + i]));
  for (const length of [0, 1, 2, 5, 30, 64, 65, 200, 1000]) {
    const [input] = randomChunks(generator, "abcab ", 1, length).map((chunk) => chunk.slice(0, length));
    assert.deepEqual(applyMerges(input, ranks), minbpeEncode(input, merges), `length ${length}`);
  }
});

const VARIED = [
  "",
  "?",
  "hello world!!!? (안녕하세요!) lol123 😉",
  "def f(x):\n    return x ** 2  # square\n\n\n",
  "Numbers: 3.14159, 1234567890, -42, 1e-9; 100,000.",
  "   leading and trailing   \t\n",
  "Ünïcödé façade — naïve café, 日本語のテキスト, emoji 👩‍👩‍👧 🇩🇪",
];

test("encode then decode gives the text back (Basic and Regex tokenizers, GPT-2 and GPT-4 patterns)", () => {
  const training = VARIED.join(" ").repeat(4);
  for (const tokenizer of [new BasicTokenizer(), new RegexTokenizer(), new RegexTokenizer(GPT2_SPLIT_PATTERN)]) {
    tokenizer.train(training, 256 + 80);
    for (const text of VARIED) assert.equal(tokenizer.decode(tokenizer.encode(text)), text, JSON.stringify(text));
  }
});

test("decoding invalid UTF-8 replaces it as Python's errors='replace' does", () => {
  // Python 3.11: bytes(b).decode("utf-8", errors="replace") for each b
  const cases: [number[], string][] = [
    [[128], "\ufffd"],
    [[226, 130], "\ufffd"],
    [[255, 254], "\ufffd\ufffd"],
    [[240, 159, 152, 65], "\ufffdA"],
    [[237, 160, 128], "\ufffd\ufffd\ufffd"],
    [[97, 195], "a\ufffd"],
    [[226, 130, 172, 128, 128], "€\ufffd\ufffd"],
  ];
  const tokenizer = new BasicTokenizer();
  for (const [bytes, text] of cases) {
    assert.equal(utf8Text(Uint8Array.from(bytes)), text);
    assert.equal(tokenizer.decode(bytes), text);
  }
  assert.throws(() => tokenizer.decode([256]), /Token 256 is not in the vocabulary \(ids 0..255\)/);
});

const SPECIALS = { "<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276 };
const LLAMA_TEXT = `<|endoftext|>The llama (/ˈlɑːmə/; Spanish pronunciation: [ˈʎama]) is a domesticated South American camelid.
Llamas are social animals and live with others as a herd. Their wool is soft and contains only a small amount of lanolin.[2]
<|fim_prefix|>In Aymara mythology, llamas are important beings.<|fim_suffix|> where they come from at the end of time.[6]<|fim_middle|> llamas will return<|endofprompt|>`;

test("special tokens: an error by default, their ids when allowed, ordinary text when not disallowed", () => {
  const tokenizer = new RegexTokenizer();
  tokenizer.train(LLAMA_TEXT, 256 + 32);
  tokenizer.registerSpecialTokens(SPECIALS);
  assert.throws(() => tokenizer.encode("hi <|endoftext|>"), /contains the special token "<\|endoftext\|>", which is not allowed here/);
  const ids = tokenizer.encode("hi <|endoftext|> there", { allowedSpecial: ["<|endoftext|>"] });
  assert.equal(ids.filter((id) => id === 100257).length, 1);
  assert.deepEqual(ids, [...tokenizer.encodeOrdinary("hi "), 100257, ...tokenizer.encodeOrdinary(" there")]);
  assert.deepEqual(tokenizer.encode("a<|endoftext|>", { disallowedSpecial: [] }), tokenizer.encodeOrdinary("a<|endoftext|>"));
  // Allowed one, disallowed the others (the default "all" means all not allowed).
  assert.throws(() => tokenizer.encode("<|endoftext|><|fim_prefix|>", { allowedSpecial: ["<|endoftext|>"] }), /<\|fim_prefix\|>/);
  assert.throws(() => tokenizer.encode("x", { allowedSpecial: ["<|nope|>"] }), /not a special token of this tokenizer/);
  assert.equal(tokenizer.decode(tokenizer.encode(LLAMA_TEXT, { allowedSpecial: "all" })), LLAMA_TEXT);
  assert.throws(() => tokenizer.registerSpecialTokens({ "<|x|>": 260 }), /is a byte or a merge/);
});

function tempPrefix(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "zth-bpe-")), "tok");
}

test("save and load give the same tokenizer, with and without special tokens (minbpe's test)", () => {
  for (const specials of [{}, SPECIALS]) {
    const tokenizer = new RegexTokenizer();
    tokenizer.train(LLAMA_TEXT, 256 + 64);
    tokenizer.registerSpecialTokens(specials);
    const ids = tokenizer.encode(LLAMA_TEXT, { allowedSpecial: "all", disallowedSpecial: [] });
    const prefix = tempPrefix();
    tokenizer.save(prefix);
    const loaded = new RegexTokenizer(GPT2_SPLIT_PATTERN); // the file's pattern replaces this one
    loaded.load(prefix + ".model");
    assert.equal(loaded.pattern, tokenizer.pattern);
    assert.deepEqual(loaded.merges, tokenizer.merges);
    assert.deepEqual(loaded.encode(LLAMA_TEXT, { allowedSpecial: "all", disallowedSpecial: [] }), ids);
    assert.equal(loaded.decode(ids), LLAMA_TEXT);
    const vocab = fs.readFileSync(prefix + ".vocab", "utf8").split("\n");
    assert.equal(vocab[97], "[a] 97");
    assert.match(vocab[256], /^\[.*\]\[.*\] -> \[.*\] 256$/);
  }
});

test("the .model file is minbpe's format", () => {
  const tokenizer = new RegexTokenizer("\\p{L}+|\\s+");
  tokenizer.train("aaabdaaabac", 259);
  tokenizer.registerSpecialTokens({ "<|end|>": 300 });
  const prefix = tempPrefix();
  tokenizer.save(prefix);
  assert.equal(fs.readFileSync(prefix + ".model", "utf8"), "minbpe v1\n\\p{L}+|\\s+\n1\n<|end|> 300\n97 97\n256 97\n257 98\n");
  const basic = new BasicTokenizer();
  basic.train("aaabdaaabac", 259);
  basic.save(prefix + "-basic");
  assert.equal(fs.readFileSync(prefix + "-basic.model", "utf8"), "minbpe v1\n\n0\n97 97\n256 97\n257 98\n");
});

test("a mismatched or damaged model file is refused with a clear error", () => {
  const prefix = tempPrefix();
  const regex = new RegexTokenizer();
  regex.train("aaabdaaabac", 259);
  regex.save(prefix);
  assert.throws(() => new BasicTokenizer().load(prefix + ".model"), /saved by a RegexTokenizer/);
  const basic = new BasicTokenizer();
  basic.train("aaabdaaabac", 259);
  basic.save(prefix + "-basic");
  assert.throws(() => new RegexTokenizer().load(prefix + "-basic.model"), /saved by a BasicTokenizer/);
  assert.throws(() => new RegexTokenizer().load(prefix + ".vocab"), /reads the .model file/);
  const write = (text: string) => {
    fs.writeFileSync(prefix + "-bad.model", text);
    return () => new RegexTokenizer().load(prefix + "-bad.model");
  };
  assert.throws(write("minbpe v2\nx\n0\n"), /line 1: expected "minbpe v1"/);
  assert.throws(write("minbpe v1\n(?i:a)\n0\n"), /line 2: the split pattern is not a valid JavaScript regex/);
  assert.throws(write("minbpe v1\na\nzero\n"), /line 3: expected the number of special tokens/);
  assert.throws(write("minbpe v1\na\n2\n<|a|> 300\n"), /ends after 1 of its 2 special tokens/);
  assert.throws(write("minbpe v1\na\n0\n97 97\n256 400\n"), /line 5: merge 1 makes token 257 from \(256, 400\)/);
  assert.throws(write("minbpe v1\na\n0\n97 97\n97,98\n"), /line 5: expected a merge/);
  assert.throws(write("minbpe v1\na\n1\n<|a|> 256\n97 97\n"), /line 4: special token <\|a\|> has id 256, which is a byte or a merge/);
});
