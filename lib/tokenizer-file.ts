// A trained tokenizer on disk, in minbpe's two files:
//   <prefix>.model  what load reads:  "minbpe v1", the split pattern, the number of special tokens,
//                   one "<token> <id>" line each, then one "<left> <right>" line per merge, in order;
//   <prefix>.vocab  for people: "[left][right] -> [token] id" per merge, "[byte] id" for the bytes.
import { utf8Text, type Pair } from "./bpe-helpers";

export const MODEL_VERSION = "minbpe v1";

export interface TokenizerModel {
  pattern: string;
  specialTokens: Map<string, number>;
  merges: Pair[];
}

interface SavedTokenizer extends TokenizerModel {
  vocab: Uint8Array[];
  renderToken(id: number): string;
}

export function modelFileText(tokenizer: TokenizerModel): string {
  if (tokenizer.pattern.includes("\n")) throw new Error("The split pattern contains a line break, which the .model format cannot hold: write it as \\n.");
  const lines = [MODEL_VERSION, tokenizer.pattern, String(tokenizer.specialTokens.size)];
  for (const [token, id] of tokenizer.specialTokens) {
    if (/\s/.test(token)) throw new Error(`Special token ${JSON.stringify(token)} contains whitespace, which the .model format cannot hold.`);
    lines.push(`${token} ${id}`);
  }
  for (const [left, right] of tokenizer.merges) lines.push(`${left} ${right}`);
  return lines.join("\n") + "\n";
}

export function vocabFileText(tokenizer: SavedTokenizer): string {
  const lines: string[] = [];
  tokenizer.vocab.forEach((_, id) => {
    const merge = id >= 256 ? tokenizer.merges[id - 256] : undefined;
    lines.push(merge
      ? `[${tokenizer.renderToken(merge[0])}][${tokenizer.renderToken(merge[1])}] -> [${tokenizer.renderToken(id)}] ${id}`
      : `[${tokenizer.renderToken(id)}] ${id}`);
  });
  for (const [token, id] of tokenizer.specialTokens) lines.push(`[${token}] ${id} (special)`);
  return lines.join("\n") + "\n";
}

/** Parses a .model file; every malformed line is an error naming the file and the line. */
export function parseModelFile(text: string, file: string): TokenizerModel {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const fail = (line: number, why: string): never => {
    throw new Error(`${file}, line ${line}: ${why}. The file is damaged or not a tokenizer model: save the tokenizer again.`);
  };
  if (lines[0] !== MODEL_VERSION) fail(1, `expected "${MODEL_VERSION}", found ${JSON.stringify((lines[0] ?? "").slice(0, 40))}`);
  if (lines.length < 3) fail(lines.length + 1, "the file ends before the number of special tokens");
  const pattern = lines[1];
  if (pattern !== "") {
    try {
      new RegExp(pattern, "u");
    } catch (error) {
      fail(2, `the split pattern is not a valid JavaScript regex (${(error as Error).message})`);
    }
  }
  if (!/^\d+$/.test(lines[2])) fail(3, `expected the number of special tokens, found ${JSON.stringify(lines[2])}`);
  const numSpecial = Number(lines[2]);
  if (lines.length < 3 + numSpecial) fail(lines.length + 1, `the file ends after ${lines.length - 3} of its ${numSpecial} special tokens`);
  const merges: Pair[] = [];
  for (let i = 3 + numSpecial; i < lines.length; i++) {
    const match = /^(\d+) (\d+)$/.exec(lines[i]);
    if (!match) fail(i + 1, `expected a merge "<left id> <right id>", found ${JSON.stringify(lines[i].slice(0, 40))}`);
    const [left, right] = [Number(match![1]), Number(match![2])];
    const id = 256 + merges.length;
    if (left >= id || right >= id) fail(i + 1, `merge ${merges.length} makes token ${id} from (${left}, ${right}), a token that does not exist yet`);
    merges.push([left, right]);
  }
  const specialTokens = new Map<string, number>();
  for (let i = 3; i < 3 + numSpecial; i++) {
    const match = /^(\S+) (\d+)$/.exec(lines[i]);
    if (!match) fail(i + 1, `expected a special token "<token> <id>", found ${JSON.stringify(lines[i].slice(0, 40))}`);
    const id = Number(match![2]);
    if (id < 256 + merges.length) fail(i + 1, `special token ${match![1]} has id ${id}, which is a byte or a merge (0..${255 + merges.length})`);
    if ([...specialTokens.values()].includes(id)) fail(i + 1, `special token id ${id} is used twice`);
    specialTokens.set(match![1], id);
  }
  return { pattern, specialTokens, merges };
}

/** A token's bytes as text: invalid UTF-8 as "�", control characters as \uXXXX (minbpe's render_token). */
export function renderToken(bytes: Uint8Array): string {
  return utf8Text(bytes).replace(/\p{C}/gu, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}
