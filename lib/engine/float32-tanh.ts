// tanh for float32 data, shared by the Tanh kernel (wasm-fixes.ts) and the fused Linear -> BatchNorm
// -> Tanh kernel (linear-batchnorm-kernels.ts), so that both give the same numbers.
//
// On [-c, c], tanh(x) = p(x) / q(x): the rational approximation that Eigen (and so TensorFlow's CPU
// kernels) use for float32, within 2.4e-7 of the exact value, and much faster than libm's tanh.
// Beyond c, sign(x) (1 - 2 / (exp(2|x|) + 1)), and beyond 9.02, where float32 tanh is exactly +-1,
// just +-1: a saturated neuron's gradient, 1 - tanh^2, is then exactly 0, as with the stock kernel.
const TANH_CLAMP = 7.90531110763549805;
const TANH_ONE = 9.02;
const [P1, P3, P5, P7, P9, P11, P13] = [4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16];
const [Q0, Q2, Q4, Q6] = [4.89352518554385e-3, 2.268434632439e-3, 1.18534705686654e-4, 1.19825839466702e-6];

export function float32Tanh(v: number): number {
  const a = Math.abs(v);
  if (a > TANH_CLAMP) return Math.sign(v) * (a >= TANH_ONE ? 1 : 1 - 2 / (Math.exp(2 * a) + 1));
  const v2 = v * v;
  const p = v * (P1 + v2 * (P3 + v2 * (P5 + v2 * (P7 + v2 * (P9 + v2 * (P11 + v2 * P13))))));
  return p / (Q0 + v2 * (Q2 + v2 * (Q4 + v2 * Q6)));
}
