// Lecture 08's second tokenizer (minbpe's regex.py): the text is first split into chunks by a regex
// (GPT-2's or GPT-4's), merges never cross a chunk's border; and special tokens, handled as tiktoken does.
import { utf8Bytes, type Pair } from "./bpe-helpers";
import { applyMerges } from "./bpe-encode";
import { trainMerges, type MergeStep } from "./bpe-train";
import { BPETokenizer, numMergesFor, type TokenizerTrainOptions } from "./bpe-tokenizer";
import type { TokenizerModel } from "./tokenizer-file";

// The split patterns of tiktoken in JavaScript's regex syntax (flag "u" for \p{...}). Python's
// originals differ in two ways, neither changing a match:
// - GPT-4's "'(?i:[sdmt]|ll|ve|re)" is case-insensitive only there; Node 20's regexes have no inline
//   (?i:...), so the cases are spelled out (js-tiktoken's cl100k_base does the same).
// - GPT-4's possessive "?+" and "++" (never give back what was matched) do not exist in JavaScript;
//   here giving back could not help anyway: "[^\r\n\p{L}\p{N}]?" cannot match a letter, so "\p{L}+"
//   cannot start inside it, and "[\r\n]*" after "[^\s\p{L}\p{N}]+" always matches, even empty.
/** GPT-2's split pattern: contractions, letters, numbers, other symbols, each with an optional leading space; whitespace. */
export const GPT2_SPLIT_PATTERN = String.raw`'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
/** GPT-4's (cl100k_base): contractions in any case, numbers of at most 3 digits, newlines kept apart. */
export const GPT4_SPLIT_PATTERN = String.raw`'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`;

/** Which special tokens encode may meet in the text (tiktoken's allowed_special / disallowed_special). */
export interface EncodeOptions {
  /** Special tokens in the text that become their ids; default none. */
  allowedSpecial?: "all" | Iterable<string>;
  /** Special tokens whose presence in the text is an error; default "all" (every one not allowed). */
  disallowedSpecial?: "all" | Iterable<string>;
}

export class RegexTokenizer extends BPETokenizer {
  private splitter: RegExp;
  /** chunk -> ids: a word seen once is merged once. Cleared when the merges change. */
  private cache = new Map<string, number[]>();

  constructor(pattern: string = GPT4_SPLIT_PATTERN) {
    super();
    this.pattern = pattern;
    this.splitter = new RegExp(pattern, "gu");
  }

  /** The text's chunks, as the pattern splits them (Python's re.findall). */
  split(text: string): string[] {
    return text.match(this.splitter) ?? [];
  }

  /** Learns vocabSize - 256 merges from the chunks' bytes, no merge crossing two chunks. */
  train(text: string, vocabSize: number, options: TokenizerTrainOptions = {}): void {
    const numMerges = numMergesFor(vocabSize);
    const steps: MergeStep[] = [];
    const merges = trainMerges(this.split(text).map(utf8Bytes), numMerges, {
      onMerge: (step) => {
        steps.push(step);
        options.onMerge?.(step);
      },
    });
    this.setMerges(merges);
    if (options.verbose) for (const step of steps) this.logMerge(step, numMerges);
  }

  protected override setMerges(merges: Pair[], firstId?: number): void {
    super.setMerges(merges, firstId);
    this.cache = new Map();
  }

  /** A chunk's bytes as the ids merging starts from (GPT4Tokenizer permutes them). */
  protected chunkIds(chunk: string): ArrayLike<number> {
    return utf8Bytes(chunk);
  }

  /** Encodes text, treating special tokens as ordinary text. */
  encodeOrdinary(text: string): number[] {
    const ids: number[] = [];
    for (const chunk of this.split(text)) {
      let chunkIds = this.cache.get(chunk);
      if (!chunkIds) {
        chunkIds = applyMerges(this.chunkIds(chunk), this.ranks);
        if (this.cache.size >= 100_000) this.cache.clear();
        this.cache.set(chunk, chunkIds);
      }
      for (const id of chunkIds) ids.push(id);
    }
    return ids;
  }

  /**
   * Encodes text with tiktoken's rules for special tokens: by default a special token in the text is
   * an error (text from a user must not be able to end a document or fake a prompt); allowed ones
   * become their ids; with `disallowedSpecial: []` the others are encoded as ordinary text.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const all = [...this.specialTokens.keys()];
    const allowed = new Set(options.allowedSpecial === "all" ? all : options.allowedSpecial ?? []);
    for (const token of allowed) if (!this.specialTokens.has(token)) throw new Error(`${JSON.stringify(token)} is not a special token of this tokenizer (it has: ${all.join(", ") || "none"}).`);
    const disallowed = options.disallowedSpecial === undefined || options.disallowedSpecial === "all"
      ? all.filter((token) => !allowed.has(token))
      : [...options.disallowedSpecial];
    for (const token of disallowed) {
      if (text.includes(token)) {
        throw new Error(`The text contains the special token ${JSON.stringify(token)}, which is not allowed here. ` +
          `To encode it as that token pass { allowedSpecial: [${JSON.stringify(token)}] } (or "all"); ` +
          `to encode it as ordinary text pass { disallowedSpecial: [] } or use encodeOrdinary.`);
      }
    }
    if (allowed.size === 0) return this.encodeOrdinary(text);
    // Split at the allowed special tokens (longest first where two start at the same place).
    const escaped = [...allowed].sort((a, b) => b.length - a.length).map((token) => token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const ids: number[] = [];
    text.split(new RegExp(`(${escaped.join("|")})`, "u")).forEach((part, i) => {
      if (i % 2 === 1) ids.push(this.specialTokens.get(part)!);
      else for (const id of this.encodeOrdinary(part)) ids.push(id);
    });
    return ids;
  }

  protected checkModel(model: TokenizerModel, file: string): void {
    if (model.pattern === "") throw new Error(`${file} has no split pattern: it was saved by a BasicTokenizer. Load it with new BasicTokenizer().load(...).`);
  }

  protected override applyModel(model: TokenizerModel): void {
    super.applyModel(model);
    this.splitter = new RegExp(model.pattern, "gu");
  }
}
