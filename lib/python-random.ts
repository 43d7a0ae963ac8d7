// Python's `random.seed(42); random.shuffle(words)`, draw for draw, so our train/dev/test split of the
// names is the lectures' split, name for name. Without it a different 10% of the names is the dev set
// and dev losses differ from the lectures' by ~0.01 (more than the gaps the lectures compare).
//
// Python's generator is the Mersenne Twister MT19937 (Matsumoto and Nishimura 1998). An integer seed
// goes through `init_by_array` with the seed's 32-bit words; `shuffle` is Fisher-Yates with
// `_randbelow(i + 1)`, which draws `bit_length(i + 1)` bits and redraws when the value is too large.

const N = 624;
const M = 397;

export class PythonRandom {
  private readonly state = new Uint32Array(N);
  private index = N + 1;

  /** Like `random.seed(seed)` for a whole number seed (Python uses its absolute value). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`PythonRandom needs a whole number seed, got ${seed}.`);
    this.seedByArray(wordsOf(Math.abs(seed)));
  }

  /** 32 random bits: genrand_uint32 of the reference implementation. */
  uint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
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

  private seedWithNumber(seed: number): void {
    this.state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const previous = this.state[i - 1] ^ (this.state[i - 1] >>> 30);
      this.state[i] = (Math.imul(1812433253, previous) + i) >>> 0;
    }
    this.index = N;
  }

  private seedByArray(key: number[]): void {
    this.seedWithNumber(19650218);
    const s = this.state;
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const previous = s[i - 1] ^ (s[i - 1] >>> 30);
      s[i] = ((s[i] ^ Math.imul(previous, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        s[0] = s[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const previous = s[i - 1] ^ (s[i - 1] >>> 30);
      s[i] = ((s[i] ^ Math.imul(previous, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        s[0] = s[N - 1];
        i = 1;
      }
    }
    s[0] = 0x80000000; // the most significant bit is 1: a non-zero initial state
  }

  private twist(): void {
    const s = this.state;
    for (let k = 0; k < N; k++) {
      const y = (s[k] & 0x80000000) | (s[(k + 1) % N] & 0x7fffffff);
      s[k] = (s[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
    }
    this.index = 0;
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
