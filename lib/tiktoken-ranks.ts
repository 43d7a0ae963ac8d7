// The merge ranks js-tiktoken ships for GPT-2 and GPT-4 (cl100k_base), read from its package: offline.
// Its own module so that live mode (the browser) can load them another way: they are 0.5-1 MB each,
// and only the pages whose cells build a tokenizer should download them.

/** What js-tiktoken's rank files export (js-tiktoken/ranks/gpt2, .../cl100k_base). */
export interface TiktokenRanks {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

export type RanksName = "gpt2" | "cl100k_base";

export function tiktokenRanks(name: RanksName): TiktokenRanks {
  const file = require(`js-tiktoken/ranks/${name}`) as TiktokenRanks | { default: TiktokenRanks };
  return "default" in file ? file.default : file;
}
