// GPT-4's tokenizer (tiktoken's cl100k_base) rebuilt as a RegexTokenizer, after minbpe's gpt4.py.
// js-tiktoken ships cl100k_base's ranks (token bytes -> rank) in its npm package, so this works
// offline. Two things have to be recovered from them:
// 1. the merges: the ranks list merged tokens, not which pair made each; a small BPE run on each
//    token's bytes, using only lower ranks, splits it back into its two parts;
// 2. the byte permutation: in cl100k_base the 256 single bytes do not have ids 0..255 in byte order
//    (a historical quirk), so bytes are permuted before merging.
import { GPT4_SPLIT_PATTERN, RegexTokenizer } from "./bpe-regex";
import { utf8Bytes, type Pair } from "./bpe-helpers";
import type { TokenizerTrainOptions } from "./bpe-tokenizer";
import type { TokenizerModel } from "./tokenizer-file";
import type { Tiktoken } from "js-tiktoken/lite";
import { tiktokenEncoder, tiktokenRanks } from "./bpe";

/** GPT-4's special tokens and their ids in cl100k_base. */
export const GPT4_SPECIAL_TOKENS = {
  "<|endoftext|>": 100257,
  "<|fim_prefix|>": 100258,
  "<|fim_middle|>": 100259,
  "<|fim_suffix|>": 100260,
  "<|endofprompt|>": 100276,
} as const;

interface Cl100k {
  merges: Pair[];
  /** byte -> its token id */
  byteShuffle: Uint8Array;
  /** token id (0..255) -> its byte */
  inverseShuffle: Uint8Array;
}

let cached: Cl100k | undefined;
/** js-tiktoken's own cl100k_base (the real GPT-4 tokenizer, OpenAI's tiktoken ported), to compare with. */
export function tiktokenCl100k(): Tiktoken {
  return tiktokenEncoder("cl100k_base");
}

/** token bytes (as a latin1 string: one char per byte) -> rank, from js-tiktoken's compact rank file. */
export function cl100kRanks(): Map<string, number> {
  const ranks = tiktokenRanks("cl100k_base");
  const byBytes = new Map<string, number>();
  for (const line of ranks.bpe_ranks.split("\n")) {
    if (!line) continue;
    const [, offset, ...tokens] = line.split(" ");
    tokens.forEach((token, i) => byBytes.set(Buffer.from(token, "base64").toString("latin1"), Number(offset) + i));
  }
  return byBytes;
}

/** Splits a token back into the two parts its last merge joined: BPE on its bytes with lower ranks only. */
function splitToken(token: string, rank: number, ranks: Map<string, number>): [string, string] {
  let parts = [...token];
  for (;;) {
    let best = -1;
    let bestRank = rank;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = ranks.get(parts[i] + parts[i + 1]);
      if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
    }
    if (best === -1) break;
    parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
  }
  if (parts.length !== 2) throw new Error(`cl100k_base's token ${rank} does not split into two earlier tokens: the rank file is not what GPT4Tokenizer expects.`);
  return [parts[0], parts[1]];
}

/** cl100k_base's merges (merge i makes token 256 + i) and byte permutation, computed once. */
export function recoverCl100k(): Cl100k {
  if (cached) return cached;
  const ranks = cl100kRanks();
  const tokens: string[] = [];
  for (const [token, rank] of ranks) tokens[rank] = token;
  const byteShuffle = new Uint8Array(256);
  const inverseShuffle = new Uint8Array(256);
  const merges: Pair[] = [];
  tokens.forEach((token, rank) => {
    if (rank < 256) {
      if (token.length !== 1) throw new Error(`cl100k_base's token ${rank} is not a single byte: the rank file is not what GPT4Tokenizer expects.`);
      byteShuffle[token.charCodeAt(0)] = rank;
      inverseShuffle[rank] = token.charCodeAt(0);
      return;
    }
    const [left, right] = splitToken(token, rank, ranks);
    merges.push([ranks.get(left)!, ranks.get(right)!]);
  });
  if (merges.length + 256 !== tokens.length || tokens.includes(undefined as unknown as string)) throw new Error("cl100k_base's ranks are not contiguous: the rank file is not what GPT4Tokenizer expects.");
  cached = { merges, byteShuffle, inverseShuffle };
  return cached;
}

export class GPT4Tokenizer extends RegexTokenizer {
  /** Loads on first use (about a second to recover 100,000 merges), then shared. */
  constructor() {
    super(GPT4_SPLIT_PATTERN);
    this.setMerges(recoverCl100k().merges);
    this.registerSpecialTokens(GPT4_SPECIAL_TOKENS);
  }

  /** Ids 0..255 stand for the bytes in cl100k_base's permuted order. */
  protected override byteTokens(): Uint8Array[] {
    return Array.from(recoverCl100k().inverseShuffle, (b) => Uint8Array.of(b));
  }

  protected override chunkIds(chunk: string): ArrayLike<number> {
    const { byteShuffle } = recoverCl100k();
    return utf8Bytes(chunk).map((b) => byteShuffle[b]);
  }

  override train(_text: string, _vocabSize: number, _options?: TokenizerTrainOptions): void {
    throw new Error("GPT4Tokenizer is pretrained (cl100k_base) and is not trained here: train a new RegexTokenizer(GPT4_SPLIT_PATTERN) instead.");
  }

  override save(_filePrefix: string): void {
    throw new Error("GPT4Tokenizer is not saved: it is rebuilt from js-tiktoken's cl100k_base ranks (and its byte permutation does not fit the .model format).");
  }

  override load(modelFile: string): void {
    this.checkModel(undefined, modelFile);
  }

  protected override checkModel(_model: TokenizerModel | undefined, file: string): void {
    throw new Error(`GPT4Tokenizer does not load ${file}: it is always cl100k_base. Load the file with new RegexTokenizer().load(...).`);
  }
}
