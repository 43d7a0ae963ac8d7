// Python's `random.seed(42); random.shuffle(words)`, draw for draw, so our train/dev/test split of the
// names is the lectures' split, name for name. Without it a different 10% of the names is the dev set
// and dev losses differ from the lectures' by ~0.01 (more than the gaps the lectures compare).
//
// Python's generator is the Mersenne Twister (mersenne-twister.ts). An integer seed goes through
// `init_by_array` with the seed's 32-bit words; `shuffle` is Fisher-Yates with
// `_randbelow(i + 1)`, which draws `bit_length(i + 1)` bits and redraws when the value is too large.
import { MersenneTwister } from "./mersenne-twister";

export class PythonRandom {
  private readonly twister: MersenneTwister;

  /** Like `random.seed(seed)` for a whole number seed (Python uses its absolute value). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`PythonRandom needs a whole number seed, got ${seed}.`);
    this.twister = MersenneTwister.fromArray(wordsOf(Math.abs(seed)));
  }

  /** 32 random bits: genrand_uint32 of the reference implementation. */
  uint32(): number {
    return this.twister.uint32();
  }

  /** Like `random.getrandbits(k)` for 1 <= k <= 32: the top k bits of one draw. */
  bits(k: number): number {
    return this.uint32() >>> (32 - k);
  }

  /** Like `random._randbelow(n)`: uniform in [0, n) by rejection, no modulo bias. */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new Error(`below(n) needs 1 <= n < 2^32, got ${n}.`);
    const k = 32 - Math.clz32(n); // n.bit_length()
    let r = this.bits(k);
    while (r >= n) r = this.bits(k);
    return r;
  }

  /** Like `random.shuffle(items)`: shuffles in place and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** The seed's 32-bit words, least significant first, as Python's random_seed makes its key. */
function wordsOf(seed: number): number[] {
  const words: number[] = [];
  do {
    words.push(seed % 2 ** 32);
    seed = Math.floor(seed / 2 ** 32);
  } while (seed > 0);
  return words;
}
