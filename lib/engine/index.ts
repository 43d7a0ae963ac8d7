// The engine, as lecture code sees it: the one module lib/*.ts imports from engine/. It starts a
// TensorFlow.js backend (engine.ts); kernels.ts registers, in one list, every kernel and gradient the
// engine adds or replaces, which then work inside the backend with no call from lecture code.
// Lecture code calls the engine in two ways only, each with its plain formula beside it:
// - runLayers (layer-plan.ts), which Sequential calls: the plan for a list of layers. The lecture's
//   Linear, BatchNorm1d and Tanh (lib/tensor-layers.ts) read as in the lecture and import nothing
//   from the engine; in training the engine runs a Linear (no bias) -> BatchNorm1d (-> Tanh) run as
//   one fused kernel, or a BatchNorm1d as one, and sets each layer's kept `out` itself (through the
//   layers' own bookkeeping, keepOutput). We chose a plan over per-layer ops because the fusion that
//   pays (lecture 04's step is bound by kernel launches and tape entries) spans three layers, which
//   no single layer's op can see. A layer called on its own runs the lecture's formula.
// - the fused ops: fusedCrossEntropy (losses.ts), fusedLayerNorm and fusedMaskedSoftmax (gpt.ts),
//   fusedSgdUpdates, fusedAdamWUpdates, fusedSumOfSquares and fusedScale (optim.ts): one kernel each
//   where the active backend has it, `undefined` elsewhere so that the caller runs its plain formula.
// runLayers also runs a Linear with a bias in training as one kernel each way (linear-kernels.ts).
// setFastPaths turns the optional fast paths off (tests and the bench compare both).
export { initEngine, engineInfo, describeEngine, type EngineInfo, type EngineName, type EngineOptions } from "./engine";
export { setFastPaths, fastPaths, type FastPaths } from "./fast-paths";
export { fusedCrossEntropy, fusedSgdUpdates, fusedAdamWUpdates, fusedLayerNorm, fusedMaskedSoftmax, fusedSumOfSquares, fusedScale } from "./fused-ops";
export type { AdamWUpdateAttrs } from "./gpt-kernels";
export { runLayers } from "./layer-plan";
