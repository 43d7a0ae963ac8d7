// Encoding with learned merges: apply them in the order they were learned (minbpe's encode: merge
// the present pair with the lowest merge id, everywhere, left to right; repeat). A merge only ever
// creates pairs that contain its new token, and those were learned later, so this is the same as
// going through the merges once, in order.
import { pairKey } from "./bpe-helpers";

/** pairKey(left, right) -> the token id that merge makes (ids grow in the order merges were learned). */
export type MergeRanks = ReadonlyMap<number, number>;

/** Token ids of `ids` (bytes, or the tokens of a byte permutation) after every applicable merge. */
export function applyMerges(ids: ArrayLike<number>, ranks: MergeRanks): number[] {
  return ids.length <= 64 ? applyMergesShort(ids, ranks) : applyMergesLong(ids, ranks);
}

/** For a short chunk: look for the lowest merge present, merge it everywhere, repeat (minbpe's loop). */
function applyMergesShort(input: ArrayLike<number>, ranks: MergeRanks): number[] {
  const ids = Array.from(input);
  while (ids.length >= 2) {
    let lowest = Infinity;
    for (let i = 0; i + 1 < ids.length; i++) {
      const id = ranks.get(pairKey(ids[i], ids[i + 1]));
      if (id !== undefined && id < lowest) lowest = id;
    }
    if (lowest === Infinity) break;
    let kept = 0;
    for (let i = 0; i < ids.length; i++) {
      if (i + 1 < ids.length && ranks.get(pairKey(ids[i], ids[i + 1])) === lowest) {
        ids[kept++] = lowest;
        i++;
      } else {
        ids[kept++] = ids[i];
      }
    }
    ids.length = kept;
  }
  return ids;
}

/**
 * For a long text (BasicTokenizer has no chunks): every mergeable pair waits in a min-heap by
 * (merge id, position), so each merge costs a few heap operations instead of a pass over the text.
 */
function applyMergesLong(input: ArrayLike<number>, ranks: MergeRanks): number[] {
  const n = input.length;
  const tokens = Int32Array.from(input as ArrayLike<number>);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new PairHeap();
  const queue = (p: number): void => {
    const q = next[p];
    if (q === -1) return;
    const id = ranks.get(pairKey(tokens[p], tokens[q]));
    if (id !== undefined) heap.push(id, p);
  };
  for (let i = 0; i + 1 < n; i++) queue(i);
  while (heap.size > 0) {
    const [id, p] = heap.pop();
    const q = next[p];
    // Stale: p was merged into its left neighbour, or its pair changed since it was queued.
    if (alive[p] === 0 || q === -1 || ranks.get(pairKey(tokens[p], tokens[q])) !== id) continue;
    tokens[p] = id;
    alive[q] = 0;
    next[p] = next[q];
    if (next[q] !== -1) prev[next[q]] = p;
    if (prev[p] !== -1) queue(prev[p]);
    queue(p);
  }
  const ids: number[] = [];
  for (let p = 0; p !== -1 && n > 0; p = next[p]) ids.push(tokens[p]);
  return ids;
}

/** A binary min-heap of (merge id, position) pairs, ordered by id, then position. */
class PairHeap {
  private readonly ids: number[] = [];
  private readonly positions: number[] = [];

  get size(): number {
    return this.ids.length;
  }

  private less(i: number, j: number): boolean {
    return this.ids[i] < this.ids[j] || (this.ids[i] === this.ids[j] && this.positions[i] < this.positions[j]);
  }

  private swap(i: number, j: number): void {
    [this.ids[i], this.ids[j]] = [this.ids[j], this.ids[i]];
    [this.positions[i], this.positions[j]] = [this.positions[j], this.positions[i]];
  }

  push(id: number, position: number): void {
    this.ids.push(id);
    this.positions.push(position);
    for (let i = this.ids.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.ids[0], this.positions[0]];
    const last = this.ids.length - 1;
    this.swap(0, last);
    this.ids.pop();
    this.positions.pop();
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < last && this.less(left, smallest)) smallest = left;
      if (right < last && this.less(right, smallest)) smallest = right;
      if (smallest === i) break;
      this.swap(i, smallest);
      i = smallest;
    }
    return top;
  }
}
