// Lecture 08's tokenizers, timed on tiny Shakespeare: training to a vocabulary of 512 (BasicTokenizer,
// RegexTokenizer), and encoding with GPT4Tokenizer beside js-tiktoken's cl100k_base, alternating.
// minbpe's side runs separately, in Python (the command is in the README); --compare checks that its
// merges, saved as JSON, are ours.
//
//   npx tsx scripts/bench-tokenizer.ts [--rounds 3] [--vocab 512] [--save-merges ours.json] [--compare minbpe-merges.json]
import * as fs from "node:fs";
import * as os from "node:os";
import { loadText } from "../lib/data";
import { BasicTokenizer } from "../lib/bpe-basic";
import { RegexTokenizer } from "../lib/bpe-regex";
import { GPT4Tokenizer, tiktokenCl100k } from "../lib/gpt4-tokenizer";
import { runMain } from "./cli";

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function seconds(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const format = (values: number[]) => values.map((v) => v.toFixed(3)).join(", ");

async function main(argv: string[]): Promise<number> {
  const rounds = Number(option(argv, "rounds") ?? 3);
  const vocabSize = Number(option(argv, "vocab") ?? 512);
  const text = await loadText("tinyshakespeare");
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(", ")}; Node ${process.version}; tiny Shakespeare, ${Buffer.byteLength(text).toLocaleString("en")} bytes`);

  const basic = new BasicTokenizer();
  const regex = new RegexTokenizer();
  const times = { basic: [] as number[], regex: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    times.basic.push(seconds(() => basic.train(text, vocabSize)));
    times.regex.push(seconds(() => regex.train(text, vocabSize)));
  }
  console.log(`train BasicTokenizer to ${vocabSize}: ${format(times.basic)} s (median ${median(times.basic).toFixed(3)})`);
  console.log(`train RegexTokenizer (GPT-4 pattern) to ${vocabSize}: ${format(times.regex)} s (median ${median(times.regex).toFixed(3)})`);
  const ids = basic.encode(text);
  console.log(`BasicTokenizer ${vocabSize}: ${ids.length.toLocaleString("en")} tokens, compression ${(Buffer.byteLength(text) / ids.length).toFixed(3)} bytes/token`);
  const savePath = option(argv, "save-merges");
  if (savePath) fs.writeFileSync(savePath, JSON.stringify(basic.merges));
  const comparePath = option(argv, "compare");
  if (comparePath) {
    const theirs = JSON.parse(fs.readFileSync(comparePath, "utf8")) as [number, number][];
    const regexFile = comparePath.includes("Regex");
    const ours = regexFile ? regex.merges : basic.merges;
    const first = ours.findIndex((pair, i) => theirs[i] === undefined || pair[0] !== theirs[i][0] || pair[1] !== theirs[i][1]);
    console.log(`merges of ${regexFile ? "RegexTokenizer" : "BasicTokenizer"} vs ${comparePath}: ${ours.length} ours, ${theirs.length} theirs, ` +
      (first === -1 && ours.length === theirs.length ? "all equal" : `first difference at merge ${first}`));
    console.log(`first 8 merges, ours: ${JSON.stringify(ours.slice(0, 8))}\n                theirs: ${JSON.stringify(theirs.slice(0, 8))}`);
  }

  // Encoding: a fresh GPT4Tokenizer each round, so its chunk cache starts empty as js-tiktoken's has none.
  const cl100k = tiktokenCl100k();
  const encode = { ours: [] as number[], tiktoken: [] as number[], oursWarm: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const gpt4 = new GPT4Tokenizer();
    let a: number[] = [];
    let b: number[] = [];
    encode.ours.push(seconds(() => (a = gpt4.encode(text))));
    encode.oursWarm.push(seconds(() => gpt4.encode(text)));
    encode.tiktoken.push(seconds(() => (b = cl100k.encode(text))));
    if (a.length !== b.length || a.some((id, i) => id !== b[i])) throw new Error("GPT4Tokenizer and cl100k_base disagree on tiny Shakespeare");
  }
  console.log(`encode tiny Shakespeare (same tokens): GPT4Tokenizer ${format(encode.ours)} s (empty cache), ${format(encode.oursWarm)} s (warm); ` +
    `js-tiktoken cl100k_base ${format(encode.tiktoken)} s; js-tiktoken / ours (empty cache) ${(median(encode.tiktoken) / median(encode.ours)).toFixed(1)}x`);
  return 0;
}

runMain(module, main);
