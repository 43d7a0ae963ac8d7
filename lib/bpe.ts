// GPT-2's tokenizer beside our character tokenizer: byte-pair encoding (BPE) through js-tiktoken,
// a port of OpenAI's tiktoken whose package ships GPT-2's merge ranks, so it works offline.
// BPE starts from bytes and merges the most frequent pairs into ~50,000 tokens: a short sequence
// from a large vocabulary, where characters give a long sequence from a small one.
import type { Tiktoken } from "js-tiktoken/lite";
import { type RanksName, tiktokenRanks } from "./tiktoken-ranks";

export { type TiktokenRanks, tiktokenRanks } from "./tiktoken-ranks";

const encoders = new Map<string, Tiktoken>();

/** js-tiktoken's tokenizer for `name`, built on first use (~0.5 s to parse the ranks), then shared. */
export function tiktokenEncoder(name: RanksName): Tiktoken {
  let encoder = encoders.get(name);
  if (!encoder) {
    const { Tiktoken: TiktokenClass } = require("js-tiktoken/lite") as typeof import("js-tiktoken/lite");
    encoder = new TiktokenClass(tiktokenRanks(name));
    encoders.set(name, encoder);
  }
  return encoder;
}

export class GPT2Tokenizer {
  /** 50,257 tokens: 256 bytes, 50,000 merges, and <|endoftext|>. */
  readonly vocabSize = 50_257;
  private readonly encoding: Tiktoken;

  constructor() {
    this.encoding = tiktokenEncoder("gpt2");
  }

  encode(text: string): number[] {
    // Special tokens such as "<|endoftext|>" in the text are encoded as plain text, never as control tokens.
    return this.encoding.encode(text, [], []);
  }

  decode(tokens: Iterable<number>): string {
    const list = [...tokens];
    for (const token of list) {
      if (!Number.isInteger(token) || token < 0 || token >= this.vocabSize) {
        throw new Error(`Token ${token} is outside GPT-2's vocabulary (0..${this.vocabSize - 1}).`);
      }
    }
    return this.encoding.decode(list);
  }

  /** The text of each token on its own, to see where BPE cut (a token may hold part of a multi-byte character). */
  pieces(tokens: Iterable<number>): string[] {
    return [...tokens].map((token) => this.decode([token]));
  }
}
