// Lecture 08's two helpers that every byte-pair encoder shares (minbpe's get_stats and merge), and
// text <-> UTF-8 bytes. Tokens 0..255 are the bytes themselves; merge i mints token 256 + i.

/** A pair of adjacent token ids, (left, right). */
export type Pair = readonly [number, number];

/** A pair as one number, for Maps: exact for token ids below 2^24 (16.7 million). */
export function pairKey(left: number, right: number): number {
  return left * 0x1000000 + right;
}

/**
 * Counts of consecutive pairs, e.g. [1, 2, 3, 1, 2] -> {"1,2": 2, "2,3": 1, "3,1": 1}.
 * The Map keeps insertion order, so its first keys are the pairs seen first in `ids` (what Python's
 * dict does, and what decides ties in training). Pass `counts` to add to an existing count.
 */
export function getStats(ids: ArrayLike<number>, counts: Map<string, number> = new Map()): Map<string, number> {
  for (let i = 0; i + 1 < ids.length; i++) {
    const pair = `${ids[i]},${ids[i + 1]}`;
    counts.set(pair, (counts.get(pair) ?? 0) + 1);
  }
  return counts;
}

/** Replaces every occurrence of `pair` in `ids`, left to right, by `id`: ([1, 2, 3, 1, 2], (1, 2), 4) -> [4, 3, 4]. */
export function merge(ids: ArrayLike<number>, pair: Pair, id: number): number[] {
  const merged: number[] = [];
  let i = 0;
  while (i < ids.length) {
    if (i + 1 < ids.length && ids[i] === pair[0] && ids[i + 1] === pair[1]) {
      merged.push(id);
      i += 2;
    } else {
      merged.push(ids[i]);
      i += 1;
    }
  }
  return merged;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8"); // not fatal: invalid bytes become U+FFFD

/** A string's UTF-8 bytes (Python's text.encode("utf-8")). */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Bytes back to text; invalid UTF-8 becomes U+FFFD "�", one per maximal invalid subsequence, the
 * same as Python's bytes.decode("utf-8", errors="replace").
 */
export function utf8Text(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
