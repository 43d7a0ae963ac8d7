// The plumbing around a training loop that a notebook writes itself (lecture 06's, whose backward
// pass is written by hand, so `train` cannot run it): the live progress line, Jupyter's Stop, and a
// clear error when the loss stops being a number. The loop's body stays in the notebook.
import { TrainingProgress } from "./display/progress";
import { StopRequest } from "./runtime/stop";

export interface StepLoopResult {
  /** Each step's loss, as its body returned it. */
  losses: number[];
  stepsDone: number;
  /** True when Stop ended the loop early (the weights are those after the last step done). */
  stopped: boolean;
  seconds: number;
  stepsPerSecond: number;
}

/**
 * Runs `step(i)` for i = 0 .. steps - 1; each call does one whole training step and returns its loss.
 * Async so that the progress reaches the notebook and Stop is heard: `await runSteps(...)`.
 */
export async function runSteps(
  steps: number,
  step: (i: number) => number,
  options: { title: string; progress?: boolean },
): Promise<StepLoopResult> {
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`runSteps: steps must be a whole number >= 0, got ${steps}.`);
  const losses: number[] = [];
  const progress = new TrainingProgress(options.title, steps, { show: options.progress ?? true });
  const stop = await StopRequest.listen();
  const start = performance.now();
  let i = 0;
  try {
    for (; i < steps && !stop.requested; i++) {
      const loss = step(i);
      if (!Number.isFinite(loss)) {
        throw new Error(`${options.title}: the loss is ${loss} at step ${i}; lower the learning rate or check the step's gradients.`);
      }
      losses.push(loss);
      await progress.update(i + 1, losses);
      await stop.poll(); // let Stop be heard
    }
  } finally {
    stop.close();
  }
  await progress.finish(i, losses, [], stop.requested);
  const seconds = (performance.now() - start) / 1000;
  return { losses, stepsDone: i, stopped: stop.requested, seconds, stepsPerSecond: i / seconds };
}
