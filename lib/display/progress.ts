// Progress of a long training loop as one line that updates in place (with a small loss curve under
// it in a notebook, and the evaluations beside it), refreshed at most twice a second: 200,000 steps,
// and the cell stays readable.
import { LiveDisplay, escapeHtml } from "./display";

/** One evaluation: after `step` steps, each split's loss. */
export interface Evaluation {
  step: number;
  /** The number train's `evaluate` option returned, or its last split's (val, in `{ train, val }`). */
  loss: number;
  /** Each split's loss (a single number is named "eval"). */
  losses: Record<string, number>;
}

export interface ProgressInfo {
  /** Steps done so far. */
  step: number;
  steps: number;
  /** Mean training loss of the last (up to) 1,000 steps: one batch's loss is noisy. */
  loss: number;
  /** The latest loss on the evaluation data, if any (its last split's, e.g. val). */
  evalLoss?: number;
  /** The latest evaluation's loss on each split, if any. */
  evalLosses?: Record<string, number>;
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

  /** Call after every step with the losses so far; refreshes only every `intervalMs`, or now when `force`. */
  async update(step: number, losses: ArrayLike<number>, evaluations: Evaluation[] = [], force = false): Promise<void> {
    const now = performance.now();
    if (!force && now - this.lastRefresh < (this.options.intervalMs ?? 500)) return;
    return this.report(step, losses, evaluations, now, false);
  }

  /** The final report: total time and speed, and where training stopped if Stop ended it early. */
  async finish(step: number, losses: ArrayLike<number>, evaluations: Evaluation[] = [], stopped = false): Promise<void> {
    return this.report(step, losses, evaluations, performance.now(), true, stopped);
  }

  private async report(step: number, losses: ArrayLike<number>, evaluations: Evaluation[], now: number, done: boolean, stopped = false): Promise<void> {
    const last = evaluations.at(-1);
    const evalLoss = last?.loss;
    const seconds = (now - this.start) / 1000;
    // The speed since the last report (the first steps are slow while the JIT warms up); overall at the end.
    const stepsPerSecond = done ? step / seconds : ((step - this.lastStep) * 1000) / (now - this.lastRefresh);
    const info: ProgressInfo = {
      step,
      steps: this.steps,
      loss: meanLoss(losses, Math.max(0, step - 1000), step),
      evalLoss,
      evalLosses: last?.losses,
      stepsPerSecond,
      secondsLeft: (this.steps - step) / Math.max(stepsPerSecond, 1e-9),
    };
    this.lastRefresh = now;
    this.lastStep = step;
    this.options.onProgress?.(info);
    if (!this.display) return;
    const evaluated = evalText(last);
    const text = stopped
      ? `${this.title}: stopped at step ${count(step)} of ${count(this.steps)} after ${duration(seconds)} | loss ${info.loss.toFixed(4)}${evaluated} | the model keeps the weights it has`
      : done
      ? `${this.title}: ${count(step)} steps in ${duration(seconds)} (${count(stepsPerSecond)} steps/s) | loss ${info.loss.toFixed(4)}${evaluated}`
      : `${this.title}: step ${count(step)}/${count(this.steps)} | loss ${info.loss.toFixed(4)}${evaluated} | ${count(stepsPerSecond)} steps/s | ${duration(info.secondsLeft)} left`;
    await this.display.update(`<div style="font-family:monospace">${escapeHtml(text)}</div>${lossCurveSvg(losses, step, evaluations)}`, text);
  }
}

/** Mean of the losses of steps [from, to). */
function meanLoss(losses: ArrayLike<number>, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += losses[i];
  return to > from ? sum / (to - from) : NaN;
}

const SPLIT_COLOURS = ["#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];

/**
 * log10 of the loss so far, averaged into at most 200 points (as the lecture's plot), as a small SVG
 * line; each evaluated split as a line of its own colour through its evaluations, on the same axes.
 */
function lossCurveSvg(losses: ArrayLike<number>, steps: number, evaluations: Evaluation[] = [], width = 480): string {
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
  const splits = evaluations.length > 0 ? Object.keys(evaluations[0].losses) : [];
  const series = splits.map((name) => evaluations.map((e) => ({ step: e.step, value: Math.log10(e.losses[name]) })));
  const all = [...means, ...series.flat().map((p) => p.value)];
  const low = Math.min(...all);
  const high = Math.max(...all);
  const range = high - low || 1;
  const pad = 12;
  const height = splits.length > 0 ? 120 : 90;
  const x = (fraction: number) => (pad + 40 + fraction * (width - 50 - pad)).toFixed(1);
  const y = (value: number) => (pad + ((high - value) / range) * (height - 2 * pad)).toFixed(1);
  const line = (points: string, colour: string) => `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>`;
  const batchLine = line(means.map((m, b) => `${x(b / (bins - 1))},${y(m)}`).join(" "), "#1f77b4");
  const splitLines = series.map((points, k) => {
    const colour = SPLIT_COLOURS[k % SPLIT_COLOURS.length];
    const dots = points.map((p) => `<circle cx="${x(p.step / steps)}" cy="${y(p.value)}" r="2.5" fill="${colour}"/>`).join("");
    return line(points.map((p) => `${x(p.step / steps)},${y(p.value)}`).join(" "), colour) + dots;
  });
  const legend = ["batch loss", ...splits]
    .map((name, k) => `<tspan fill="${k === 0 ? "#1f77b4" : SPLIT_COLOURS[(k - 1) % SPLIT_COLOURS.length]}">${escapeHtml(name)}</tspan>`)
    .join("  ");
  const label = (at: number, value: number) => `<text x="2" y="${at}" font-size="10" fill="#666">${(10 ** value).toPrecision(3)}</text>`;
  return (
    `<svg width="${width}" height="${height}" style="display:block">${batchLine}${splitLines.join("")}${label(pad + 4, high)}${label(height - pad + 4, low)}` +
    `<text x="${width - 250}" y="${height - 1}" font-size="10" fill="#666">loss (log scale) over steps: ${legend}</text></svg>`
  );
}

function evalText(evaluation: Evaluation | undefined): string {
  if (!evaluation) return "";
  const splits = Object.entries(evaluation.losses).map(([name, loss]) => `${name} ${loss.toFixed(4)}`);
  return ` | at step ${count(evaluation.step)}: ${splits.join(", ")}`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
