// The one switch for the engine's fast paths: each can be turned off, so that tests compare it with
// the path it replaces and the bench measures both side by side. All are on by default; turning one
// off never changes a result beyond float rounding, only the speed.
export interface FastPaths {
  /** Our WebAssembly SIMD kernels (simd-kernels.c); off: each caller's other path (XNNPACK, JS loops). */
  simd: boolean;
  /** Lecture 04's Linear -> BatchNorm1d -> Tanh blocks as one kernel each way (linear-batchnorm-kernels.ts). */
  fusedBlocks: boolean;
  /** Batched and transposed matmuls on XNNPACK (batched-matmul.ts); off: the backend's stock kernel. */
  batchedMatMul: boolean;
  /** Large matmuls split by rows between this thread and helper threads (threaded-matmul.ts), where the threaded build runs. */
  threadedMatMul: boolean;
  /** Lecture 05's LayerNorm each way, clipping's norm and scaling, AdamW over all parameters: one kernel each (gpt-kernels.ts). */
  gptKernels: boolean;
}

/** The current settings; read by the kernels at every call. */
export const fastPaths: Readonly<FastPaths> = { simd: true, fusedBlocks: true, batchedMatMul: true, threadedMatMul: true, gptKernels: true };

/**
 * Turns fast paths on or off, e.g. `setFastPaths({ simd: false })`; returns the settings before, so
 * that `setFastPaths(before)` restores them.
 */
export function setFastPaths(changes: Partial<FastPaths>): FastPaths {
  const before = { ...fastPaths };
  for (const [name, on] of Object.entries(changes)) {
    if (!(name in fastPaths)) throw new Error(`setFastPaths: no fast path "${name}": use ${Object.keys(fastPaths).join(", ")}.`);
    if (typeof on !== "boolean") throw new Error(`setFastPaths: ${name} must be true or false (got ${on}).`);
  }
  Object.assign(fastPaths, changes);
  return before;
}
