// What BasicTokenizer, RegexTokenizer and GPT4Tokenizer share (minbpe's base.py): the merges, the
// vocabulary they imply, special tokens, decode, save and load.
import * as fs from "fs";
import { concatBytes, pairKey, utf8Bytes, utf8Text, type Pair } from "./bpe-helpers";
import type { MergeStep } from "./bpe-train";
import { modelFileText, parseModelFile, renderToken, vocabFileText, type TokenizerModel } from "./tokenizer-file";

export interface TokenizerTrainOptions {
  /** Print each merge as minbpe's verbose training does. */
  verbose?: boolean;
  /** Called after each merge. */
  onMerge?: (step: MergeStep) => void;
}

export abstract class BPETokenizer {
  /** The learned merges in order: merge i joins `merges[i]` into token 256 + i. */
  merges: Pair[] = [];
  /** The regex that splits text into chunks before merging ("" for none). */
  pattern = "";
  /** Special tokens, e.g. "<|endoftext|>" -> 100257: ids outside the merges, never made by merging. */
  specialTokens = new Map<string, number>();
  /** id -> the bytes it stands for (the 256 bytes, then one entry per merge). */
  vocab: Uint8Array[] = [];
  /** pairKey(left, right) -> merged id, for encoding. */
  protected ranks = new Map<number, number>();
  private specialById = new Map<number, string>();

  constructor() {
    this.setMerges([]);
  }

  abstract train(text: string, vocabSize: number, options?: TokenizerTrainOptions): void;
  abstract encode(text: string): number[];

  /** All ids: bytes, merges and special tokens. */
  get vocabSize(): number {
    return this.vocab.length + this.specialTokens.size;
  }

  /** The bytes of ids 0..255: the bytes themselves (GPT4Tokenizer permutes them). */
  protected byteTokens(): Uint8Array[] {
    return Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
  }

  /** Sets the merges and rebuilds the vocabulary from them (minbpe's _build_vocab). */
  protected setMerges(merges: Pair[], firstId = 256): void {
    this.merges = merges;
    this.vocab = this.byteTokens();
    this.ranks = new Map();
    merges.forEach(([left, right], i) => {
      const id = firstId + i;
      const [a, b] = [this.vocab[left], this.vocab[right]];
      if (a === undefined || b === undefined) throw new Error(`Merge ${i} (${left}, ${right}) uses a token that does not exist yet (ids so far: 0..${id - 1}).`);
      this.vocab[id] = concatBytes([a, b]);
      this.ranks.set(pairKey(left, right), id);
    });
  }

  /** Registers special tokens (minbpe's register_special_tokens), e.g. {"<|endoftext|>": 100257}. */
  registerSpecialTokens(tokens: Record<string, number> | Map<string, number>): void {
    const entries = tokens instanceof Map ? [...tokens] : Object.entries(tokens);
    const byId = new Map<number, string>();
    for (const [token, id] of entries) {
      if (!Number.isInteger(id) || id < this.vocab.length) {
        throw new Error(`Special token ${JSON.stringify(token)} has id ${id}, which is a byte or a merge (0..${this.vocab.length - 1}): give it an id of ${this.vocab.length} or more.`);
      }
      if (byId.has(id)) throw new Error(`Special tokens ${JSON.stringify(byId.get(id))} and ${JSON.stringify(token)} both have id ${id}.`);
      if (token === "") throw new Error("A special token cannot be the empty string.");
      byId.set(id, token);
    }
    this.specialTokens = new Map(entries);
    this.specialById = byId;
  }

  /** The bytes of one token. */
  tokenBytes(id: number): Uint8Array {
    const bytes = this.vocab[id];
    if (bytes !== undefined) return bytes;
    const special = this.specialById.get(id);
    if (special !== undefined) return utf8Bytes(special);
    const specials = this.specialById.size > 0 ? ` and special tokens ${[...this.specialById.keys()].join(", ")}` : "";
    throw new Error(`Token ${id} is not in the vocabulary (ids 0..${this.vocab.length - 1}${specials}).`);
  }

  /** Ids -> text; bytes that are not valid UTF-8 become "�" (Python's errors="replace"). */
  decode(ids: Iterable<number>): string {
    return utf8Text(concatBytes([...ids].map((id) => this.tokenBytes(id))));
  }

  /** A token as readable text, control characters escaped (minbpe's render_token). */
  renderToken(id: number): string {
    return renderToken(this.tokenBytes(id));
  }

  /**
   * Writes `<prefix>.model` (what load reads: version, pattern, special tokens, merges; minbpe's format,
   * so minbpe can load it too) and `<prefix>.vocab` (every token as text, for people to read).
   */
  save(filePrefix: string): void {
    fs.writeFileSync(filePrefix + ".model", modelFileText(this));
    fs.writeFileSync(filePrefix + ".vocab", vocabFileText(this));
  }

  /** Reads a `.model` file written by save (or by minbpe); refuses one that does not fit this class. */
  load(modelFile: string): void {
    if (!modelFile.endsWith(".model")) throw new Error(`${modelFile}: load reads the .model file that save wrote (the .vocab file is for reading only).`);
    const model = parseModelFile(fs.readFileSync(modelFile, "utf8"), modelFile);
    this.checkModel(model, modelFile);
    this.applyModel(model);
  }

  /** Refuses a model this class cannot use (BasicTokenizer: one with a pattern or special tokens). */
  protected abstract checkModel(model: TokenizerModel, file: string): void;

  protected applyModel(model: TokenizerModel): void {
    this.pattern = model.pattern;
    this.setMerges(model.merges);
    this.registerSpecialTokens(model.specialTokens);
  }

  /** minbpe's verbose line for one merge. */
  protected logMerge(step: MergeStep, numMerges: number): void {
    const index = step.id - 255;
    console.log(`merge ${index}/${numMerges}: (${step.pair[0]}, ${step.pair[1]}) -> ${step.id} (${JSON.stringify(this.renderToken(step.id))}) had ${step.count} occurrences`);
  }
}

/** vocabSize - 256, checked. */
export function numMergesFor(vocabSize: number): number {
  if (!Number.isInteger(vocabSize) || vocabSize < 256) throw new Error(`vocabSize must be an integer of at least 256 (the bytes), got ${vocabSize}.`);
  return vocabSize - 256;
}
