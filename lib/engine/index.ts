// The engine, as lecture code sees it: the one module lib/*.ts imports from engine/. It starts a
// TensorFlow.js backend (engine.ts), and offers the fused versions of lecture formulas, each of which
// returns undefined where it does not apply, so that the caller runs its plain formula (fused-ops.ts,
// batchnorm-kernels.ts, linear-batchnorm-kernels.ts). Everything else the engine adds works inside
// the backend's kernels (kernels.ts lists them) and needs no call from lecture code.
export { initEngine, engineInfo, describeEngine, type EngineInfo, type EngineName, type EngineOptions } from "./engine";
export { setFastPaths, fastPaths, type FastPaths } from "./fast-paths";
export { fusedCrossEntropy, fusedSgdUpdates, fusedAdamWUpdate, type AdamWUpdateAttrs } from "./fused-ops";
export { fusedBatchNormTraining } from "./batchnorm-kernels";
export { fusedLinearBatchNormTraining, type FusedBlockOutputs } from "./linear-batchnorm-kernels";
