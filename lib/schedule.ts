// Learning-rate schedules: a function of the step that train() calls before every step.

export interface WarmupCosineOptions {
  /** The peak learning rate, reached at the end of the warm-up. */
  maxLearningRate: number;
  /** Where the cosine ends, and the rate from then on (nanoGPT: maxLearningRate / 10). */
  minLearningRate: number;
  /** Steps of linear warm-up from near 0 to the peak. */
  warmupSteps: number;
  /** The step at which the decay reaches minLearningRate (nanoGPT's lr_decay_iters, usually the step count). */
  decaySteps: number;
}

/**
 * nanoGPT's `get_lr`: a linear warm-up, then half a cosine from the peak down to the minimum.
 * The warm-up lets AdamW's running means (which start at 0) settle before the steps get large; the
 * slow decay at the end takes smaller steps as the loss flattens.
 */
export function warmupCosine(options: WarmupCosineOptions): (step: number) => number {
  const { maxLearningRate, minLearningRate, warmupSteps, decaySteps } = options;
  if (!(maxLearningRate > 0 && Number.isFinite(maxLearningRate))) throw new Error(`warmupCosine: maxLearningRate must be a finite number > 0 (got ${maxLearningRate}).`);
  if (!(minLearningRate > 0 && minLearningRate <= maxLearningRate)) {
    throw new Error(`warmupCosine: minLearningRate must be > 0 and <= maxLearningRate (got ${minLearningRate}).`);
  }
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new Error(`warmupCosine: warmupSteps must be an integer >= 0 (got ${warmupSteps}).`);
  if (!Number.isInteger(decaySteps) || decaySteps <= warmupSteps) {
    throw new Error(`warmupCosine: decaySteps must be an integer > warmupSteps (got ${decaySteps}, warm-up ${warmupSteps}).`);
  }
  return (step) => {
    // (step + 1) so that step 0 already moves: a learning rate of 0 would waste a step.
    if (step < warmupSteps) return (maxLearningRate * (step + 1)) / (warmupSteps + 1);
    if (step >= decaySteps) return minLearningRate;
    const progress = (step - warmupSteps) / (decaySteps - warmupSteps); // 0 -> 1
    const coefficient = 0.5 * (1 + Math.cos(Math.PI * progress)); // 1 -> 0
    return minLearningRate + coefficient * (maxLearningRate - minLearningRate);
  };
}
