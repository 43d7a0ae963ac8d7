// Character-level tokenizer: every character is one token, its index in a sorted vocabulary.

export class CharTokenizer {
  /** index -> character */
  readonly itos: readonly string[];
  /** character -> index */
  readonly stoi: ReadonlyMap<string, number>;

  constructor(characters: Iterable<string>) {
    this.itos = [...characters];
    this.stoi = new Map(this.itos.map((ch, i) => [ch, i]));
    if (this.stoi.size !== this.itos.length) throw new Error("CharTokenizer: characters must be unique.");
  }

  /** The sorted set of characters in `text`, as the lecture's `sorted(list(set(text)))`. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(text)].sort());
  }

  get vocabSize(): number {
    return this.itos.length;
  }

  encode(text: string): number[] {
    return [...text].map((ch) => {
      const index = this.stoi.get(ch);
      if (index === undefined) throw new Error(`Character ${JSON.stringify(ch)} is not in the vocabulary.`);
      return index;
    });
  }

  decode(indices: Iterable<number>): string {
    let text = "";
    for (const i of indices) {
      const ch = this.itos[i];
      if (ch === undefined) throw new Error(`Token ${i} is outside the vocabulary (size ${this.vocabSize}).`);
      text += ch;
    }
    return text;
  }
}

/** The special token that marks both the start and the end of a name. */
export const BOUNDARY = ".";

/**
 * The names vocabulary of lectures 01-04: '.' is 0 and marks start and end, then the letters
 * in sorted order ('a'..'z' are 1..26 for names.txt).
 */
export function namesTokenizer(words: string[]): CharTokenizer {
  const letters = [...new Set(words.join(""))].sort();
  if (letters.includes(BOUNDARY)) throw new Error(`Names must not contain the boundary token "${BOUNDARY}".`);
  return new CharTokenizer([BOUNDARY, ...letters]);
}
