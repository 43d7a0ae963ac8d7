// Browser build of lib/tiktoken-ranks.ts: the ranks are the site's own copy of js-tiktoken's rank file
// (assets/live/ranks-<name>.js, written by scripts/build-live.ts), loaded on first use, so only the
// pages whose cells build a tokenizer download them. importScripts is synchronous in a Web Worker,
// as the tokenizer's constructor is.
import type { RanksName, TiktokenRanks } from "../tiktoken-ranks";
import { host } from "./host";

export type { RanksName, TiktokenRanks };

/** Where the site keeps a rank file, from its root. */
export const ranksFile = (name: RanksName) => `assets/live/ranks-${name}.js`;

/** The global a rank file's bundle defines (scripts/build-live.ts gives it this name). */
export const ranksGlobal = (name: RanksName) => `ZeroToHeroRanks_${name}`;

export function tiktokenRanks(name: RanksName): TiktokenRanks {
  const scope = self as unknown as Record<string, TiktokenRanks | { default: TiktokenRanks } | undefined> & { importScripts?: (url: string) => void };
  const key = ranksGlobal(name);
  if (!scope[key]) {
    if (!scope.importScripts) throw new Error(`GPT tokenizer ranks (${name}) load only in live mode's worker.`);
    const url = new URL(ranksFile(name), host.siteUrl).href;
    try {
      scope.importScripts(url);
    } catch (error) {
      throw new Error(`could not load the tokenizer's ranks from the site (${url}: ${(error as Error).message}); rebuild the site.`);
    }
  }
  const file = scope[key];
  // The rank file's bundle exports its module: the ranks themselves (CommonJS) or as `default` (ESM).
  const ranks = file && "default" in file ? file.default : file;
  if (!ranks?.bpe_ranks) throw new Error(`${ranksFile(name)} did not define the ${name} ranks; rebuild the site.`);
  return ranks;
}
