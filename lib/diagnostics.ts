// Lecture 04's look inside a training network: the statistics behind its four diagnostic plots.
//   (a) activations per Tanh layer: mean, std, and how many are saturated (|t| > 0.97);
//   (b) gradients per Tanh layer: d loss / d (layer output), which PyTorch gets from retain_grad();
//       here each Tanh layer taps its output (gradientTap in layers.ts) so the step's one backward
//       pass also yields them;
//   (c) each 2-D weight's gradient, and its grad:data ratio std(grad) / std(weight);
//   (d) each 2-D weight's update:data ratio over training, log10(std(lr * grad) / std(weight)):
//       about -3 is healthy, much lower learns slowly, much higher changes weights too fast.
// Statistics are computed in float64 on numbers read back from the tensors; std is the unbiased one
// (divided by n - 1), as torch.std, so the numbers compare with the lecture's.
import * as tf from "@tensorflow/tfjs";
import { Embedding, TensorLayer, Linear, Tanh } from "./layers";

/** The lecture's threshold: a tanh output beyond it sits on the flat part, its gradient ~0. */
export const SATURATION_THRESHOLD = 0.97;

export interface Moments {
  mean: number;
  /** Unbiased standard deviation (divided by n - 1), as torch.std. */
  std: number;
}

/** Mean and (unbiased) standard deviation of some numbers. */
export function moments(values: ArrayLike<number>): Moments {
  const n = values.length;
  if (n < 2) throw new Error(`moments: need at least 2 values (got ${n}).`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(squares / (n - 1)) };
}

/** The fraction (0 to 1) of values with |v| > threshold. */
export function saturatedFraction(values: ArrayLike<number>, threshold = SATURATION_THRESHOLD): number {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) > threshold) count++;
  return count / values.length;
}

/**
 * A histogram as a curve, as the lecture's torch.histogram(t, density=True): `bins` equal bins from the
 * smallest to the largest value; x the bin centres, y the density (each bin's fraction / its width,
 * so the area under the curve is 1 and layers of different spread compare on one plot).
 */
export function histogramCurve(values: ArrayLike<number>, bins = 100): { x: number[]; y: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogramCurve: bins must be an integer >= 1 (got ${bins}).`);
  if (values.length === 0) throw new Error("histogramCurve: no values.");
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    low = Math.min(low, values[i]);
    high = Math.max(high, values[i]);
  }
  if (high === low) high = low + 1; // all equal: one full bin
  const width = (high - low) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.floor((values[i] - low) / width))]++;
  return {
    x: counts.map((_, b) => low + (b + 0.5) * width),
    y: counts.map((c) => c / values.length / width),
  };
}

/** std(grad) / std(data): how large a gradient is beside the values it will change. */
export function gradToDataRatio(grad: ArrayLike<number>, data: ArrayLike<number>): number {
  return moments(grad).std / moments(data).std;
}

/** log10(std(lr * grad) / std(data)): the size of one update beside the values it changes. */
export function updateToDataRatio(learningRate: number, grad: ArrayLike<number>, data: ArrayLike<number>): number {
  return Math.log10((Math.abs(learningRate) * moments(grad).std) / moments(data).std);
}

export interface LayerStats extends Moments {
  /** e.g. "layer 4 (Tanh)": the position in the model's list of layers. */
  name: string;
  /** Percent of values with |v| > 0.97 (for activations; for gradients it is not computed). */
  saturatedPercent?: number;
  /** The histogram curve, to plot. */
  curve: { x: number[]; y: number[] };
}

export interface WeightGradientStats extends Moments {
  /** e.g. "layer 2 (Linear) weight [30, 100]". */
  name: string;
  shape: number[];
  /** std(grad) / std(weight). */
  gradToData: number;
  curve: { x: number[]; y: number[] };
}

/** The step's numbers that diagnostics read (train's StepInfo has these, and more). */
export interface StepNumbers {
  step: number;
  learningRate: number;
  parameters: tf.Variable[];
  grads: tf.Tensor[];
}

/**
 * Collects the four diagnostics for a model made of layers. Creating it makes every Tanh layer keep
 * the gradient of its output; pass `onStep` to train, then read the statistics after training:
 *
 *   const diagnostics = new Diagnostics(model.layers);
 *   await train(model, batches, { steps, learningRate, onStep: (info) => diagnostics.onStep(info) });
 *   diagnostics.activations(); diagnostics.gradients(); diagnostics.weightGradients(); diagnostics.updateRatios
 */
export class Diagnostics {
  /** The 2-D weights (of Linear and Embedding layers), by name, in the model's order. */
  readonly weights: { name: string; weight: tf.Variable }[];
  /** log10 update:data ratio of each weight (same order as `weights`) at each recorded step. */
  readonly updateRatios: number[][] = [];
  /** The steps at which `updateRatios` were recorded. */
  readonly updateSteps: number[] = [];
  /** The 2-D weights' gradients at the last recorded step (copies, read after training). */
  private lastGradients: { grad: Float32Array | Int32Array | Uint8Array; data: Float32Array | Int32Array | Uint8Array }[] = [];

  constructor(readonly layers: TensorLayer[], options: { bins?: number } = {}) {
    this.bins = options.bins ?? 100;
    for (const layer of this.tanhLayers()) layer.retainGrad = true;
    this.weights = layers.flatMap((layer, i) =>
      layer instanceof Linear || layer instanceof Embedding ? [{ name: `layer ${i} (${layer.constructor.name}) weight [${layer.weight.shape}]`, weight: layer.weight }] : [],
    );
  }

  private readonly bins: number;

  /** Records the update:data ratios and the weight gradients of one training step (train's onStep). */
  onStep(info: StepNumbers): void {
    this.lastGradients = this.weights.map(({ name, weight }) => {
      const index = info.parameters.indexOf(weight);
      if (index < 0) throw new Error(`Diagnostics: ${name} is not among the step's parameters; build Diagnostics from the layers of the model being trained.`);
      return { grad: info.grads[index].dataSync(), data: weight.dataSync() };
    });
    this.updateRatios.push(this.lastGradients.map(({ grad, data }) => updateToDataRatio(info.learningRate, grad, data)));
    this.updateSteps.push(info.step);
  }

  /** (c) Each 2-D weight's gradient at the last recorded step: mean, std, grad:data ratio, histogram. */
  weightGradients(): WeightGradientStats[] {
    if (this.lastGradients.length === 0) throw new Error("Diagnostics.weightGradients: pass `onStep: (info) => diagnostics.onStep(info)` to train first.");
    return this.weights.map(({ name, weight }, i) => {
      const { grad, data } = this.lastGradients[i];
      const stats = moments(grad);
      return { name, shape: weight.shape, ...stats, gradToData: stats.std / moments(data).std, curve: histogramCurve(grad, this.bins) };
    });
  }

  /** (a) Each Tanh layer's last output: mean, std, saturation %, histogram. */
  activations(): LayerStats[] {
    return this.tanhLayers().map((layer) => {
      if (!layer.out) throw new Error("Diagnostics.activations: run the model forward first.");
      const values = layer.out.dataSync();
      return { name: this.nameOf(layer), ...moments(values), saturatedPercent: 100 * saturatedFraction(values), curve: histogramCurve(values, this.bins) };
    });
  }

  /** (b) Each Tanh layer's d loss / d output from the last backward pass: mean, std, histogram. */
  gradients(): LayerStats[] {
    return this.tanhLayers().map((layer) => {
      if (!layer.outGrad) throw new Error("Diagnostics.gradients: train at least one step with these Diagnostics first.");
      const values = layer.outGrad.dataSync();
      return { name: this.nameOf(layer), ...moments(values), curve: histogramCurve(values, this.bins) };
    });
  }

  /** Stops keeping the gradients and frees them. */
  dispose(): void {
    for (const layer of this.tanhLayers()) {
      layer.retainGrad = false;
      layer.outGrad?.dispose();
      layer.outGrad = undefined;
    }
  }

  private tanhLayers(): Tanh[] {
    return this.layers.filter((layer): layer is Tanh => layer instanceof Tanh);
  }

  private nameOf(layer: TensorLayer): string {
    return `layer ${this.layers.indexOf(layer)} (${layer.constructor.name})`;
  }
}
