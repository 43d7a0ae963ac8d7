// PyTorch's CPU generator, draw for draw: `new TorchGenerator(2147483647)` gives the same numbers as the
// lectures' `g = torch.Generator().manual_seed(2147483647)` for torch.rand, torch.randn and
// torch.randint. Initialise a model and draw its batches from it in the lecture's order, and the model
// starts from the lecture's weights and sees the lecture's batches: the losses it prints are the
// lecture's, up to float rounding.
//
// The generator is the Mersenne Twister seeded with `init_genrand` (PyTorch's at::mt19937).
// What each call does with its 32-bit draws (PyTorch's aten/src/ATen/core/DistributionsHelper.h,
// TransformationHelper.h and native/cpu/DistributionTemplates.h):
// - rand: one draw per value, its low 24 bits / 2^24 (a float32 in [0, 1)); `random()` and the
//   inherited `uniform(shape)`.
// - randint(low, high): one draw per value, low + draw % (high - low) (for ranges below 2^32).
// - randn of 16 or more values: rand fills the tensor, then Box-Muller turns each block of 16 uniforms
//   into 16 normals (u1 = 1 - data[j], u2 = data[j + 8] for j < 8); when the size is not a multiple of
//   16, the last 16 values are drawn again and transformed as one more block.
// - randn of fewer than 16 values: one double-precision Box-Muller pair per two values (53-bit
//   uniforms from two draws each); the pair's second value is kept for the next call, as PyTorch does.
// Checked against PyTorch 1.13's printed values in test/torch-random.test.ts.
import * as tf from "@tensorflow/tfjs";
import { MersenneTwister } from "./mersenne-twister";
import { Generator } from "./random";

export class TorchGenerator extends Generator {
  private readonly twister: MersenneTwister;
  /** Box-Muller's second value, kept for the next small randn (PyTorch's next_double_normal_sample). */
  private cachedNormal: number | undefined;

  /** Like `torch.Generator().manual_seed(seed)`, for a seed in [0, 2^32). */
  constructor(seed = 2147483647) {
    super(seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`TorchGenerator needs a whole number seed in [0, 2^32), got ${seed}.`);
    }
    this.twister = MersenneTwister.fromNumber(seed);
  }

  /** 32 random bits: one output of the Mersenne Twister (PyTorch's generator->random()). */
  uint32(): number {
    return this.twister.uint32();
  }

  /** Like one value of torch.rand: a float32 in [0, 1) from the low 24 bits of one draw. */
  random(): number {
    return (this.uint32() & 0xffffff) / 0x1000000;
  }

  /** Like one value of torch.randint(0, high): draw % high (PyTorch's modulo, not a rejection loop). */
  integer(high: number): number {
    if (!Number.isInteger(high) || high < 1 || high > 0xffffffff) {
      throw new Error(`TorchGenerator.integer(high) needs a whole number 1 <= high < 2^32, got ${high}.`);
    }
    return this.uint32() % high;
  }

  /** Like torch.randn(1): a standard normal by the double-precision Box-Muller path. */
  normal(): number {
    if (this.cachedNormal !== undefined) {
      const cached = this.cachedNormal;
      this.cachedNormal = undefined;
      return cached;
    }
    const u1 = this.random53();
    const u2 = this.random53();
    const radius = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = radius * Math.sin(theta);
    return radius * Math.cos(theta);
  }

  /** Like torch.randn(shape, generator=g). */
  randn(shape: number[]): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (size < 16) {
      for (let i = 0; i < size; i++) values[i] = this.normal();
    } else {
      for (let i = 0; i < size; i++) values[i] = this.random();
      for (let i = 0; i + 16 <= size; i += 16) boxMuller16(values, i);
      if (size % 16 !== 0) {
        const last = size - 16; // PyTorch redraws the last 16 values as one more block
        for (let i = last; i < size; i++) values[i] = this.random();
        boxMuller16(values, last);
      }
    }
    return tf.tensor(values, shape, "float32");
  }

  /** Like torch.randint(low, high, [n]): n whole numbers in [low, high). */
  randint(low: number, high: number, n: number): number[] {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
      throw new Error(`randint(low, high, n) needs whole numbers low < high, got ${low} and ${high}.`);
    }
    return Array.from({ length: n }, () => low + this.integer(high - low));
  }

  /** A uniform double in [0, 1) from 53 bits of two draws (PyTorch's random64: first draw high). */
  private random53(): number {
    const high = this.uint32();
    const low = this.uint32();
    // (high * 2^32 + low) & (2^53 - 1), divided by 2^53
    return ((high & 0x1fffff) * 0x100000000 + low) / 0x20000000000000;
  }
}

/** PyTorch's normal_fill_16: Box-Muller on 16 uniforms in place, in float32 as PyTorch computes it. */
function boxMuller16(data: Float32Array, start: number): void {
  for (let j = start; j < start + 8; j++) {
    const u1 = Math.fround(1 - data[j]); // [0, 1) -> (0, 1], so the log is finite
    const u2 = data[j + 8];
    const radius = Math.fround(Math.sqrt(Math.fround(-2 * Math.fround(Math.log(u1)))));
    const theta = Math.fround(2 * Math.PI * u2);
    data[j] = radius * Math.fround(Math.cos(theta));
    data[j + 8] = radius * Math.fround(Math.sin(theta));
  }
}
