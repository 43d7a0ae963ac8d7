// One seeded random generator for initialisation and sampling, like the lecture's
// `g = torch.Generator().manual_seed(2147483647)`: the same seed gives the same weights, the same
// losses and the same sampled names on every run and every engine.
import * as tf from "@tensorflow/tfjs";

export class Generator {
  private state: number;
  private spareNormal: number | undefined;

  constructor(seed = 2147483647) {
    if (!Number.isFinite(seed)) throw new Error(`Generator seed must be a finite number, got ${seed}.`);
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1): mulberry32, a small, fast 32-bit generator that is good enough for teaching. */
  random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal, by the Box-Muller transform (which makes two at a time; the second is kept). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const spare = this.spareNormal;
      this.spareNormal = undefined;
      return spare;
    }
    const u = 1 - this.random(); // in (0, 1], so the log is finite
    const v = this.random();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, high). */
  integer(high: number): number {
    return Math.floor(this.random() * high);
  }

  /** One index drawn with probability proportional to `weights` (like torch.multinomial, one sample). */
  multinomial(weights: ArrayLike<number>): number {
    let total = 0;
    let negative = false;
    for (let i = 0; i < weights.length; i++) {
      total += weights[i];
      if (weights[i] < 0) negative = true; // a negative weight can leave a positive sum: check each
    }
    if (negative || !(total > 0) || !Number.isFinite(total)) {
      throw new Error(`multinomial needs non-negative weights with a finite, positive sum (got ${total}).`);
    }
    let remaining = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      remaining -= weights[i];
      if (remaining < 0) return i;
    }
    return weights.length - 1; // rounding left a sliver at the end
  }

  /** A tensor of standard normal values, like torch.randn(shape, generator=g). */
  randn(shape: number[]): tf.Tensor {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = this.normal();
    return tf.tensor(values, shape, "float32");
  }

  /** A tensor of uniform values in [low, high). */
  uniform(shape: number[], low = 0, high = 1): tf.Tensor {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * this.random();
    return tf.tensor(values, shape, "float32");
  }

  /** Shuffles an array in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
