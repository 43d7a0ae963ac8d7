// Every kernel and gradient the engine adds to the WASM backend or puts in place of its own, in one
// list, registered once when the engine starts WASM (engine.ts). Each entry names the file that
// explains it; every one has a test against the stock CPU backend or the plain formula, and
// `setFastPaths` (fast-paths.ts) turns the optional ones off.
import * as tf from "@tensorflow/tfjs";
import * as fixes from "./wasm-fixes";
import { batchedMatMul } from "./batched-matmul";
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, batchNormTrain, batchNormTrainGrad, batchNormTrainGradient } from "./batchnorm-kernels";
import { fastPaths } from "./fast-paths";
import { SGD_UPDATE, sgdUpdate } from "./fused-ops";
import * as gpt from "./gpt-kernels";
import * as block from "./linear-batchnorm-kernels";
import { LINEAR_BIAS, LINEAR_BIAS_GRAD, linearBias, linearBiasGrad, linearBiasGradient } from "./linear-kernels";
import { MATMUL_GRADIENTS, matMulGradients, simdMatMul } from "./mlp-kernels";
import { sumLeadingAxes } from "./sum-leading-axes";
import { threadedMatMul } from "./threaded-matmul";
import { replaceKernel, type Kernel, type KernelArgs } from "./wasm-backend";

type AnyKernel = (args: Parameters<Kernel>[0]) => tf.TensorInfo | tf.TensorInfo[];
type GradientConfig = Omit<tf.GradConfig, "kernelName">;

type Entry =
  /** A kernel the backend does not have. */
  | { add: string; kernel: AnyKernel }
  /** Ours in place of the backend's; `make` gets the stock kernel, for the cases it keeps. */
  | { replace: string; make: (stock: Kernel) => Kernel }
  /** A gradient for a kernel (ours, or one whose stock gradient is replaced on every backend). */
  | { gradientOf: string; gradient: GradientConfig }
  /** Our gradient on WASM only, every other backend keeps the stock one; `make` gets the stock one. */
  | { replaceGradientOf: string; make: (stock: fixes.GradFunc) => fixes.GradFunc };

const KERNELS: Entry[] = [
  // wasm-fixes.ts, 1: the gradient of a lookup needs a segment sum, which WASM lacks.
  { add: "UnsortedSegmentSum", kernel: fixes.unsortedSegmentSum },
  // 2 and 7: matmuls on our SIMD code when small (mlp-kernels.ts), batched and transposed ones on
  // XNNPACK (batched-matmul.ts), and a gradient that passes its transposes on instead of running them.
  // Large ones split across threads where the threaded build runs (threaded-matmul.ts).
  {
    replace: "BatchMatMul",
    make: (stock: Kernel) => (args: KernelArgs) =>
      threadedMatMul(args) || (fastPaths.simd && simdMatMul(args)) || (fastPaths.batchedMatMul ? batchedMatMul(args, stock) : stock(args)),
  },
  { gradientOf: "BatchMatMul", gradient: { inputsToSave: ["a", "b"], gradFunc: fixes.batchMatMulGradient } },
  { add: MATMUL_GRADIENTS, kernel: matMulGradients },
  // Add's gradient without a Reshape where the shape is already right.
  { replaceGradientOf: "Add", make: fixes.addGradient },
  // 8: bias gradients, sums over leading axes, without the stock transpose (on SIMD: mlp-kernels.ts).
  { replace: "Sum", make: (stock: Kernel) => (args: KernelArgs) => sumLeadingAxes(args) ?? stock(args) },
  // 3 and 12: Identity, and the tensors autograd saves, share their input's data (see shareSavedTensors).
  { replace: "Identity", make: () => fixes.identity },
  // 4: the embedding lookup C[X] and its gradient, one segment sum.
  { replace: "GatherV2", make: fixes.gather },
  { replaceGradientOf: "GatherV2", make: fixes.gatherGradient },
  // 5: tanh and its gradient in one pass each (on SIMD: mlp-kernels.ts).
  { replace: "Tanh", make: () => fixes.tanh },
  { add: fixes.TANH_GRAD, kernel: fixes.tanhGrad },
  { replaceGradientOf: "Tanh", make: () => fixes.tanhGradient },
  // 9: ReLU's gradient in one pass (on SIMD: gpt-kernels.ts).
  { add: fixes.RELU_GRAD, kernel: fixes.reluGrad },
  { replaceGradientOf: "Relu", make: () => fixes.reluGradient },
  // 6: softmax cross-entropy, one kernel each way (losses.ts through fused-ops.ts).
  { add: fixes.SOFTMAX_CROSS_ENTROPY, kernel: fixes.softmaxCrossEntropy },
  { add: fixes.SOFTMAX_CROSS_ENTROPY_GRAD, kernel: fixes.softmaxCrossEntropyGrad },
  { gradientOf: fixes.SOFTMAX_CROSS_ENTROPY, gradient: { inputsToSave: ["logits", "targets"], gradFunc: fixes.softmaxCrossEntropyGradient } },
  // The optimizers' updates, one kernel per step: SGD (fused-ops.ts), AdamW (gpt-kernels.ts).
  { add: SGD_UPDATE, kernel: sgdUpdate },
  { add: gpt.ADAMW_UPDATES, kernel: gpt.adamWUpdates },
  // 14: lecture 05's LayerNorm each way, and clipping's norm and scaling, one kernel each (gpt-kernels.ts).
  { add: gpt.LAYER_NORM, kernel: gpt.layerNorm },
  { add: gpt.LAYER_NORM_GRAD, kernel: gpt.layerNormGrad },
  { gradientOf: gpt.LAYER_NORM, gradient: { inputsToSave: ["x", "gamma"], gradFunc: gpt.layerNormGradient } },
  { add: gpt.SUM_OF_SQUARES, kernel: gpt.sumOfSquares },
  { add: gpt.SCALE_ALL, kernel: gpt.scaleAll },
  // ... and attention's softmax(scores * scale + mask), one kernel each way (gpt-kernels.ts).
  { add: gpt.MASKED_SOFTMAX, kernel: gpt.maskedSoftmax },
  { add: gpt.MASKED_SOFTMAX_GRAD, kernel: gpt.maskedSoftmaxGrad },
  { gradientOf: gpt.MASKED_SOFTMAX, gradient: { inputsToSave: ["mask"], outputsToSave: [true], gradFunc: gpt.maskedSoftmaxGradient } },
  // 10: BatchNorm1d in training, one kernel each way (batchnorm-kernels.ts).
  { add: BATCH_NORM_TRAIN, kernel: batchNormTrain },
  { add: BATCH_NORM_TRAIN_GRAD, kernel: batchNormTrainGrad },
  { gradientOf: BATCH_NORM_TRAIN, gradient: { inputsToSave: ["x", "gamma"], gradFunc: batchNormTrainGradient } },
  // 11: lecture 04's Linear -> BatchNorm1d -> Tanh block, one kernel each way (linear-batchnorm-kernels.ts).
  { add: block.LINEAR_BATCH_NORM_TRAIN, kernel: block.linearBatchNormTrain },
  { add: block.LINEAR_BATCH_NORM_LINK, kernel: block.linearBatchNormLink },
  { add: block.LINEAR_BATCH_NORM_TRAIN_GRAD, kernel: block.linearBatchNormTrainGrad },
  {
    gradientOf: block.LINEAR_BATCH_NORM_LINK,
    gradient: { inputsToSave: ["x", "weight", "gamma", "h"], outputsToSave: [true], gradFunc: block.linearBatchNormLinkGradient },
  },
  // 15: a Linear layer with a bias in training, one kernel each way (linear-kernels.ts).
  { add: LINEAR_BIAS, kernel: linearBias },
  { add: LINEAR_BIAS_GRAD, kernel: linearBiasGrad },
  { gradientOf: LINEAR_BIAS, gradient: { inputsToSave: ["x", "weight"], gradFunc: linearBiasGradient } },
];

/** The names of the kernels the list adds or replaces (for tests and the bench). */
export const WASM_KERNEL_NAMES: string[] = KERNELS.flatMap((entry) => ("add" in entry ? [entry.add] : "replace" in entry ? [entry.replace] : []));

let registered = false;

/** Registers the list (once, before the WASM backend starts), and the saved-tensor sharing (12). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const entry of KERNELS) {
    if ("add" in entry) tf.registerKernel({ kernelName: entry.add, backendName: "wasm", kernelFunc: entry.kernel as unknown as tf.KernelFunc });
    else if ("replace" in entry) replaceKernel(entry.replace, entry.make);
    else if ("gradientOf" in entry) tf.registerGradient({ kernelName: entry.gradientOf, ...entry.gradient });
    else replaceGradient(entry.replaceGradientOf, entry.make);
  }
  fixes.shareSavedTensors();
}

function replaceGradient(kernelName: string, make: (stock: fixes.GradFunc) => fixes.GradFunc): void {
  const config = tf.getGradient(kernelName);
  if (!config) throw new Error(`kernels: no stock gradient for ${kernelName}.`);
  const stock = config.gradFunc as unknown as fixes.GradFunc;
  const ours = make(stock);
  tf.registerGradient({
    ...config,
    gradFunc: (dy, saved, attrs) => (tf.getBackend() === "wasm" ? ours : stock)(dy as tf.Tensor, saved, attrs),
  });
}
