// Lecture 08's first tokenizer (minbpe's basic.py): byte-level BPE on the whole text, no regex
// splitting, no special tokens.
import { utf8Bytes } from "./bpe-helpers";
import { applyMerges } from "./bpe-encode";
import { trainMerges, type MergeStep } from "./bpe-train";
import { BPETokenizer, numMergesFor, type TokenizerTrainOptions } from "./bpe-tokenizer";
import type { TokenizerModel } from "./tokenizer-file";

export class BasicTokenizer extends BPETokenizer {
  /** Learns vocabSize - 256 merges from the text's UTF-8 bytes: the most frequent pair each time. */
  train(text: string, vocabSize: number, options: TokenizerTrainOptions = {}): void {
    const numMerges = numMergesFor(vocabSize);
    const steps: MergeStep[] = [];
    const merges = trainMerges([utf8Bytes(text)], numMerges, {
      onMerge: (step) => {
        steps.push(step);
        options.onMerge?.(step);
      },
    });
    this.setMerges(merges);
    if (options.verbose) for (const step of steps) this.logMerge(step, numMerges);
  }

  encode(text: string): number[] {
    return applyMerges(utf8Bytes(text), this.ranks);
  }

  protected checkModel(model: TokenizerModel, file: string): void {
    if (model.pattern !== "" || model.specialTokens.size > 0) {
      throw new Error(`${file} has a split pattern or special tokens: it was saved by a RegexTokenizer. Load it with new RegexTokenizer().load(...).`);
    }
  }
}
