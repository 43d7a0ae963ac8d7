// Progress of a long training loop as one line that updates in place (with a small loss curve under
// it in a notebook), refreshed at most twice a second: 200,000 steps, and the cell stays readable.
import { LiveDisplay, escapeHtml } from "./display";

export interface ProgressInfo {
  /** Steps done so far. */
  step: number;
  steps: number;
  /** Mean training loss of the last (up to) 1,000 steps: one batch's loss is noisy. */
  loss: number;
  /** The latest loss on the evaluation data, if any. */
  evalLoss?: number;
  stepsPerSecond: number;
  secondsLeft: number;
}

export interface ProgressOptions {
  /** Show the updating line (a notebook output, or printed lines outside a notebook). */
  show: boolean;
  /** Also called at each refresh and once at the end, e.g. to log the progress elsewhere. */
  onProgress?: (info: ProgressInfo) => void;
  intervalMs?: number;
}

export class TrainingProgress {
  private readonly display: LiveDisplay | undefined;
  private readonly start = performance.now();
  private lastRefresh = performance.now();
  private lastStep = 0;

  constructor(private readonly title: string, private readonly steps: number, private readonly options: ProgressOptions) {
    this.display = options.show ? new LiveDisplay() : undefined;
  }

  /** Call after every step with the losses so far; refreshes only every `intervalMs`. */
  async update(step: number, losses: ArrayLike<number>, evalLoss?: number): Promise<void> {
    const now = performance.now();
    if (now - this.lastRefresh < (this.options.intervalMs ?? 500)) return;
    return this.report(step, losses, evalLoss, now, false);
  }

  /** The final report: total time and speed, and where training stopped if Stop ended it early. */
  async finish(step: number, losses: ArrayLike<number>, evalLoss?: number, stopped = false): Promise<void> {
    return this.report(step, losses, evalLoss, performance.now(), true, stopped);
  }

  private async report(
    step: number,
    losses: ArrayLike<number>,
    evalLoss: number | undefined,
    now: number,
    done: boolean,
    stopped = false,
  ): Promise<void> {
    const seconds = (now - this.start) / 1000;
    // The speed since the last report (the first steps are slow while the JIT warms up); overall at the end.
    const stepsPerSecond = done ? step / seconds : ((step - this.lastStep) * 1000) / (now - this.lastRefresh);
    const info: ProgressInfo = {
      step,
      steps: this.steps,
      loss: meanLoss(losses, Math.max(0, step - 1000), step),
      evalLoss,
      stepsPerSecond,
      secondsLeft: (this.steps - step) / Math.max(stepsPerSecond, 1e-9),
    };
    this.lastRefresh = now;
    this.lastStep = step;
    this.options.onProgress?.(info);
    if (!this.display) return;
    const text = stopped
      ? `${this.title}: stopped at step ${count(step)} of ${count(this.steps)} after ${duration(seconds)} | loss ${info.loss.toFixed(4)}${evalText(evalLoss)} | the model keeps the weights it has`
      : done
      ? `${this.title}: ${count(step)} steps in ${duration(seconds)} (${count(stepsPerSecond)} steps/s) | loss ${info.loss.toFixed(4)}${evalText(evalLoss)}`
      : `${this.title}: step ${count(step)}/${count(this.steps)} | loss ${info.loss.toFixed(4)}${evalText(evalLoss)} | ${count(stepsPerSecond)} steps/s | ${duration(info.secondsLeft)} left`;
    await this.display.update(`<div style="font-family:monospace">${escapeHtml(text)}</div>${lossCurveSvg(losses, step)}`, text);
  }
}

/** Mean of the losses of steps [from, to). */
function meanLoss(losses: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += losses[i];
  return to > from ? sum / (to - from) : NaN;
}

/** log10 of the loss so far, averaged into at most 200 points (as the lecture's plot), as a small SVG line. */
function lossCurveSvg(losses: ArrayLike<number>, steps: number, width = 480, height = 90): string {
  const bins = Math.min(200, steps);
  if (bins < 2) return "";
  const means: number[] = [];
  for (let b = 0; b < bins; b++) {
    const from = Math.floor((b * steps) / bins);
    const to = Math.floor(((b + 1) * steps) / bins);
    let sum = 0;
    for (let i = from; i < to; i++) sum += Math.log10(losses[i]);
    means.push(sum / (to - from));
  }
  const low = Math.min(...means);
  const high = Math.max(...means);
  const range = high - low || 1;
  const pad = 12;
  const points = means
    .map((m, b) => `${(pad + 40 + (b / (bins - 1)) * (width - 50 - pad)).toFixed(1)},${(pad + ((high - m) / range) * (height - 2 * pad)).toFixed(1)}`)
    .join(" ");
  const label = (y: number, value: number) => `<text x="2" y="${y}" font-size="10" fill="#666">${(10 ** value).toPrecision(3)}</text>`;
  return `<svg width="${width}" height="${height}" style="display:block"><polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${points}"/>${label(pad + 4, high)}${label(height - pad + 4, low)}<text x="${width - 150}" y="${height - 1}" font-size="10" fill="#666">loss (log scale) over steps</text></svg>`;
}

function evalText(evalLoss: number | undefined): string {
  return evalLoss === undefined ? "" : ` | eval loss ${evalLoss.toFixed(4)}`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
