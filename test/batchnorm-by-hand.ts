// BatchNorm1d's training step written out by hand over plain numbers (float64): the one reference the
// tests check BatchNorm1d's formula against. The engine's kernels are checked against BatchNorm1d
// itself on the CPU backend (test/layers.test.ts, test/linear-batchnorm-kernels.test.ts).

export interface BatchNormByHand {
  /** Per column: the mean over the rows. */
  mean: number[];
  /** Per column: the biased variance, the mean of the squared deviations from the mean (divided by N). */
  variance: number[];
  /** gamma * (x - mean) / sqrt(variance + eps) + beta, row by row. */
  y: number[][];
  /** The running statistics after one step from their start (mean 0, variance 1); the variance unbiased (N - 1). */
  runningMean: number[];
  runningVar: number[];
}

/** rows [N][C]: the statistics over the N rows (for [B, T, C], pass its B * T rows). */
export function batchNormByHand(rows: number[][], options: { gamma?: number[]; beta?: number[]; eps?: number; momentum?: number } = {}): BatchNormByHand {
  const { eps = 1e-5, momentum = 0.1 } = options;
  const N = rows.length;
  const mean = rows[0].map((_, j) => rows.reduce((s, r) => s + r[j], 0) / N);
  const variance = rows[0].map((_, j) => rows.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / N);
  const y = rows.map((r) => r.map((v, j) => (options.gamma?.[j] ?? 1) * ((v - mean[j]) / Math.sqrt(variance[j] + eps)) + (options.beta?.[j] ?? 0)));
  const runningMean = mean.map((m) => momentum * m);
  const runningVar = variance.map((v) => 1 - momentum + (momentum * v * N) / (N - 1));
  return { mean, variance, y, runningMean, runningVar };
}
