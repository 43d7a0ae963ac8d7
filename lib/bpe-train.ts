// Byte-pair encoding training, fast and exact: the same merges as minbpe's loop (count every pair,
// merge the most frequent, repeat), without counting every pair again at every merge.
//
// The rule, as minbpe's Python has it: `max(stats, key=stats.get)` takes the pair with the highest
// count; among equal counts, the first in the dict's insertion order, i.e. the pair whose first
// occurrence comes first in the text (chunks in order, each left to right). Here: the highest count,
// ties to the smallest position of a first occurrence.
//
// How: the tokens sit in a linked list; each pair keeps its count and the positions where it
// occurs. Merging a pair touches only its occurrences and their neighbours: each occurrence
// (x, a, b, y) becomes (x, Z, y), so (x, a) and (b, y) lose one and (x, Z) and (Z, y) gain one.
// A max-heap of counts finds the next pair; entries whose count fell are re-queued when they surface.
import { pairKey, type Pair } from "./bpe-helpers";

/** One pair's bookkeeping: its count and where it occurs (positions of its left token, some stale). */
interface PairStats {
  left: number;
  right: number;
  count: number;
  positions: number[];
}

export interface MergeStep {
  pair: Pair;
  /** The new token's id. */
  id: number;
  /** How often the pair occurred when it was merged. */
  count: number;
}

/**
 * Learns `numMerges` merges from token chunks (no pair spans two chunks: BasicTokenizer passes the
 * whole text as one chunk, RegexTokenizer the regex's pieces). Merge i makes token `firstId + i`.
 * Throws when the chunks run out of pairs before `numMerges`.
 */
export function trainMerges(
  chunks: readonly ArrayLike<number>[],
  numMerges: number,
  options: { firstId?: number; onMerge?: (step: MergeStep) => void } = {},
): Pair[] {
  const firstId = options.firstId ?? 256;
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const tokens = new Int32Array(total);
  const next = new Int32Array(total); // -1 at the end of a chunk
  const prev = new Int32Array(total); // -1 at the start of a chunk
  const alive = new Uint8Array(total).fill(1);
  const pairs = new Map<number, PairStats>();

  const isAt = (p: number, left: number, right: number): boolean =>
    alive[p] === 1 && tokens[p] === left && next[p] !== -1 && tokens[next[p]] === right;

  const add = (left: number, right: number, position: number): PairStats => {
    const key = pairKey(left, right);
    let stats = pairs.get(key);
    if (!stats) pairs.set(key, (stats = { left, right, count: 0, positions: [] }));
    stats.count++;
    stats.positions.push(position);
    // Keep the stale positions (pairs since merged away) from piling up.
    if (stats.positions.length > 2 * stats.count + 64) compact(stats);
    return stats;
  };
  const remove = (left: number, right: number): void => {
    const key = pairKey(left, right);
    const stats = pairs.get(key);
    if (stats && --stats.count === 0) pairs.delete(key);
  };
  /** Drops stale positions; returns the first position where the pair still occurs. */
  const compact = (stats: PairStats): number => {
    let first = Infinity;
    let kept = 0;
    for (const p of stats.positions) {
      if (!isAt(p, stats.left, stats.right)) continue;
      stats.positions[kept++] = p;
      if (p < first) first = p;
    }
    stats.positions.length = kept;
    return first;
  };

  let offset = 0;
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const p = offset + i;
      tokens[p] = chunk[i];
      prev[p] = i === 0 ? -1 : p - 1;
      next[p] = i === chunk.length - 1 ? -1 : p + 1;
      if (i > 0) add(chunk[i - 1], chunk[i], p - 1);
    }
    offset += chunk.length;
  }
  const heap = new MaxHeap<PairStats>();
  for (const stats of pairs.values()) heap.push(stats.count, stats);

  /** The most frequent pair; among equal counts the one that occurs first. */
  const best = (): PairStats | undefined => {
    const ties = new Set<PairStats>();
    let tieCount = -1;
    while (heap.size > 0) {
      const { priority, item } = heap.peek();
      if (item.count === 0 || pairs.get(pairKey(item.left, item.right)) !== item) {
        heap.pop(); // merged away
      } else if (item.count !== priority) {
        heap.pop(); // its count fell since it was queued: queue it again
        heap.push(item.count, item);
      } else if (tieCount === -1 || priority === tieCount) {
        heap.pop();
        ties.add(item);
        tieCount = priority;
      } else {
        break;
      }
    }
    let chosen: PairStats | undefined;
    let chosenFirst = Infinity;
    for (const stats of ties) {
      const first = ties.size === 1 ? 0 : compact(stats);
      if (first < chosenFirst) [chosen, chosenFirst] = [stats, first];
    }
    for (const stats of ties) if (stats !== chosen) heap.push(stats.count, stats);
    return chosen;
  };

  const merges: Pair[] = [];
  for (let i = 0; i < numMerges; i++) {
    const chosen = best();
    if (!chosen) {
      throw new Error(`The text has no pairs left to merge after ${i} merges: train on more text or ask for a vocabulary of at most ${firstId + i}.`);
    }
    const { left: a, right: b, count } = chosen;
    const id = firstId + i;
    pairs.delete(pairKey(a, b));
    const positions = Int32Array.from(chosen.positions).sort(); // left to right, as minbpe's merge
    const touched = new Set<PairStats>();
    for (const p of positions) {
      if (!isAt(p, a, b)) continue;
      const q = next[p];
      const before = prev[p];
      const after = next[q];
      if (before !== -1) remove(tokens[before], a);
      if (after !== -1) remove(b, tokens[after]);
      tokens[p] = id;
      alive[q] = 0;
      next[p] = after;
      if (after !== -1) prev[after] = p;
      if (before !== -1) touched.add(add(tokens[before], id, before));
      if (after !== -1) touched.add(add(id, tokens[after], p));
    }
    for (const stats of touched) if (stats.count > 0) heap.push(stats.count, stats);
    merges.push([a, b]);
    options.onMerge?.({ pair: [a, b], id, count });
  }
  return merges;
}

/** A binary max-heap of items by a number. */
class MaxHeap<T> {
  private readonly priorities: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): { priority: number; item: T } {
    return { priority: this.priorities[0], item: this.items[0] };
  }

  push(priority: number, item: T): void {
    let i = this.items.length;
    this.priorities.push(priority);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.priorities[parent] >= priority) break;
      this.move(parent, i);
      i = parent;
    }
    this.priorities[i] = priority;
    this.items[i] = item;
  }

  pop(): void {
    const lastPriority = this.priorities.pop()!;
    const lastItem = this.items.pop()!;
    const n = this.items.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.priorities[child + 1] > this.priorities[child]) child++;
      if (this.priorities[child] <= lastPriority) break;
      this.move(child, i);
      i = child;
    }
    this.priorities[i] = lastPriority;
    this.items[i] = lastItem;
  }

  private move(from: number, to: number): void {
    this.priorities[to] = this.priorities[from];
    this.items[to] = this.items[from];
  }
}
