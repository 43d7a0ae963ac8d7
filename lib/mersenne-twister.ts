// The Mersenne Twister MT19937 (Matsumoto and Nishimura 1998): the generator behind both Python's
// `random` (python-random.ts) and PyTorch's CPU torch.Generator (torch-random.ts). They differ only in
// how a seed becomes the starting state: PyTorch uses `init_genrand(seed)`, Python `init_by_array`
// with the seed's 32-bit words.

const N = 624;
const M = 397;

export class MersenneTwister {
  private readonly state = new Uint32Array(N);
  private index = N;

  /** The reference `init_genrand(seed)`, as PyTorch's manual_seed (seed in [0, 2^32)). */
  static fromNumber(seed: number): MersenneTwister {
    const twister = new MersenneTwister();
    twister.initGenrand(seed);
    return twister;
  }

  /** The reference `init_by_array(key)`, as Python's random.seed (key: the seed's 32-bit words). */
  static fromArray(key: number[]): MersenneTwister {
    const twister = new MersenneTwister();
    twister.initGenrand(19650218);
    const s = twister.state;
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
    return twister;
  }

  private constructor() {}

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

  private initGenrand(seed: number): void {
    this.state[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const previous = this.state[i - 1] ^ (this.state[i - 1] >>> 30);
      this.state[i] = (Math.imul(1812433253, previous) + i) >>> 0;
    }
    this.index = N;
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
